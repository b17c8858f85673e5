import { parse, CsvError } from 'csv-parse';

export class CsvFormatError extends Error {
  override name = 'CsvFormatError';
}

/**
 * The parser's own messages quote the offending field, which may be anything (a key, a password):
 * say what is wrong and where, in our words, without the file's content.
 */
function describeCsvError(err: CsvError): string {
  const where = (err as CsvError & { lines?: number }).lines;
  const at = where ? ` at line ${where}` : '';
  const what: Record<string, string> = {
    CSV_RECORD_INCONSISTENT_FIELDS_LENGTH: 'a row has a different number of fields than the header',
    CSV_RECORD_INCONSISTENT_COLUMNS: 'a row has a different number of fields than the header',
    CSV_QUOTE_NOT_CLOSED: 'a quoted field is never closed (unbalanced quote)',
    CSV_INVALID_CLOSING_QUOTE: 'a quote inside a field is not escaped (unbalanced quote)',
    CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text follows a closing quote (unbalanced quote)',
    CSV_MAX_RECORD_SIZE: 'a row is too large',
  };
  return `malformed CSV${at}: ${what[err.code] ?? `the file cannot be parsed as CSV (${err.code})`}`;
}

/**
 * Reads an RFC 4180 CSV (header row, quotes, embedded newlines) to its end without keeping it, to find
 * the first problem in it: ragged rows, unbalanced quotes, no header become a CsvFormatError naming the line.
 * DuckDB parses the datasets; this explains, in our words, a file it refused.
 */
export async function scanCsv(source: NodeJS.ReadableStream, options: { delimiter?: string } = {}): Promise<{ header: string[]; rowCount: number }> {
  const parser = parse({ bom: true, delimiter: options.delimiter ?? ',', skip_empty_lines: true, relax_column_count: false });
  let header: string[] | null = null;
  let rowCount = 0;
  source.on('error', (err) => parser.destroy(err));
  try {
    for await (const record of source.pipe(parser) as AsyncIterable<string[]>) {
      if (header) {
        rowCount++;
        continue;
      }
      header = record.map((h) => h.trim());
      const blank = header.findIndex((h) => h === '');
      if (blank >= 0) throw new CsvFormatError(`header column ${blank + 1} has no name`);
    }
  } catch (err) {
    if (err instanceof CsvError) throw new CsvFormatError(describeCsvError(err));
    throw err;
  }
  if (!header) throw new CsvFormatError('the file is empty: a header row is expected');
  return { header, rowCount };
}
