import { parse, CsvError } from 'csv-parse';
import type { RawTable } from '../domain/schema';

export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
}

/**
 * Reads an RFC 4180 CSV (header row, quotes, embedded newlines) into string columns.
 * Malformed input (ragged rows, unbalanced quotes, no header) becomes a CsvFormatError naming the line.
 */
export async function readCsv(source: NodeJS.ReadableStream, options: { delimiter?: string } = {}): Promise<RawTable> {
  const parser = parse({ bom: true, delimiter: options.delimiter ?? ',', skip_empty_lines: true, relax_column_count: false });
  let header: string[] | null = null;
  let columns: string[][] = [];
  let rowCount = 0;
  source.on('error', (err) => parser.destroy(err));
  try {
    for await (const record of source.pipe(parser) as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((h) => h.trim());
        const blank = header.findIndex((h) => h === '');
        if (blank >= 0) throw new CsvFormatError(`header column ${blank + 1} has no name`);
        columns = header.map(() => []);
        continue;
      }
      for (let i = 0; i < record.length; i++) columns[i].push(record[i]);
      rowCount++;
    }
  } catch (err) {
    if (err instanceof CsvError) throw new CsvFormatError(`malformed CSV: ${err.message}`);
    throw err;
  }
  if (!header) throw new CsvFormatError('the file is empty: a header row is expected');
  return { header, columns, rowCount };
}
