// The typed columnar form of a dataset version: the raw file(s) parsed once, into one Parquet file whose
// columns are DOUBLE (every present value is a number) or VARCHAR (trimmed text), with missing values as
// NULL. Training, evaluation, profiling and validation read it; nothing parses the raw file again.
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import { parse } from 'csv-parse';
import { CsvFormatError, scanCsv } from './csv';
import { ident, literal, literalList, queryRows } from './duckdb';
import type { ReadableFormat } from './format';

export class DatasetFormatError extends Error {
  override name = 'DatasetFormatError';
}

/** DuckDB's memory cap (DATA_MEMORY_LIMIT) was too small for this dataset: retrying with the same cap cannot help. */
export class EngineMemoryError extends Error {
  override name = 'EngineMemoryError';
}

/** DuckDB's out-of-memory failures as EngineMemoryError; anything else unchanged. */
export function engineError(err: unknown): unknown {
  return err instanceof Error && /out of memory/i.test(err.message)
    ? new EngineMemoryError('the data engine ran out of memory for this dataset (DATA_MEMORY_LIMIT): raise it, or give the dataset fewer columns')
    : err;
}

/** Decompresses a gzip part to its end: DuckDB reads a truncated gzip without a word, losing the rows cut off. */
async function verifyGzip(file: string): Promise<void> {
  try {
    await pipeline(createReadStream(file), createGunzip(), new Writable({ write: (_chunk, _encoding, done) => done() }));
  } catch {
    throw new DatasetFormatError('the gzip stream is corrupt or truncated: upload the file again');
  }
}

export type Encoding = 'utf-8' | 'latin-1' | 'utf-16';

export interface ColumnarOptions {
  format: ReadableFormat;
  encoding: Encoding;
  /** Columns the model's schema pins as categorical: kept as text even when every value is a number (zip codes). */
  keepAsText: readonly string[];
}

export interface ColumnarDataset {
  rows: number;
  /** How each column is stored, and whether a text column holds any numbers (then it is profiled as numbers too). */
  columns: { name: string; storedAs: 'numeric' | 'text'; hasNumbers: boolean }[];
  /** The CSV delimiter found, when it is not a comma (reported so that a surprise is visible). */
  delimiter: string | null;
}

/** Spellings of "no value" in users' files, compared trimmed and case-insensitively. */
export const MISSING_TOKENS = ['', 'na', 'n/a', 'nan', 'null', 'none', '?'] as const;
const DELIMITERS = [',', ';', '\t', '|'];
const READABLE = 'readable formats are CSV, gzip-compressed CSV and Parquet';
/** SQL: a number written with a decimal comma ("1234,5", "-0,25") or an integer. */
const DECIMAL_COMMA = (v: string) => `regexp_full_match(trim(${v}), '[+-]?[0-9]+(,[0-9]+)?')`;
/** Columns per typing query (see typing below). */
const COLUMNS_PER_PASS = 200;

/** The spellings as CSV cells usually have them: DuckDB turns these into NULL while parsing, at no cost. */
const CSV_NULLS = [...new Set(MISSING_TOKENS.flatMap((t) => [t, t.toUpperCase(), t.charAt(0).toUpperCase() + t.slice(1)])), 'NaN', 'N/a'];
/**
 * SQL: the value is missing. Long values cannot be a token, which spares trimming most of them. list_contains,
 * not IN: DuckDB (1.5) turns an IN list of five or more constants into a join, which loses the rows' file order.
 */
const missing = (v: string) => `(${v} IS NULL OR (length(${v}) < 16 AND list_contains(${literalList(MISSING_TOKENS)}, lower(trim(${v})))))`;
/** SQL: the value as a number (surrounding spaces allowed), NULL when it is not one. */
export const asNumber = (v: string) => `TRY_CAST(${v} AS DOUBLE)`;
/** SQL: a column of the typed form as numbers, whether it is stored as DOUBLE or as text holding numbers. */
export const numbersOf = (name: string, storedAs: 'numeric' | 'text') => (storedAs === 'numeric' ? ident(name) : asNumber(ident(name)));

function csvReader(files: readonly string[], options: ColumnarOptions, delimiter: string, header: string[]): string {
  // Nothing is guessed: the header is ours (read below), every column is text, the dialect is RFC 4180.
  const columns = `{${header.map((name) => `${literal(name)}: 'VARCHAR'`).join(', ')}}`;
  const settings = [
    'auto_detect = false',
    'header = true',
    `columns = ${columns}`,
    `delim = ${literal(delimiter)}`,
    `quote = '"'`,
    `escape = '"'`,
    `encoding = ${literal(options.encoding)}`,
    `compression = ${options.format === 'csv-gzip' ? "'gzip'" : "'none'"}`,
    'strict_mode = true',
    'null_padding = false',
    `nullstr = ${literalList(CSV_NULLS)}`,
  ];
  return `read_csv(${literalList(files)}, ${settings.join(', ')})`;
}

/** The header row as written (DuckDB renames duplicate and blank names; users must hear about them). */
async function readHeader(file: string, options: ColumnarOptions, delimiter: string): Promise<string[]> {
  const raw = createReadStream(file);
  const text = options.format === 'csv-gzip' ? raw.pipe(createGunzip()) : raw;
  const parser = parse({ bom: true, delimiter, to_line: 1, relax_quotes: true, encoding: options.encoding === 'latin-1' ? 'latin1' : options.encoding === 'utf-16' ? 'utf16le' : 'utf8' });
  try {
    for await (const record of text.pipe(parser) as AsyncIterable<string[]>) return record.map((h) => h.trim());
  } finally {
    raw.destroy();
  }
  throw new DatasetFormatError('the file is empty: a header row is expected');
}

/** The delimiter of the header line: the usual one it holds most of, outside quotes; a comma when it has none. */
export function headerDelimiter(firstLine: string): string {
  const unquoted = firstLine.replace(/"[^"]*"/g, '');
  const counts = DELIMITERS.map((d) => unquoted.split(d).length - 1);
  const best = Math.max(...counts);
  return best === 0 ? ',' : DELIMITERS[counts.indexOf(best)];
}

/** The file's first line, decoded (at most 1 MiB of it). */
async function firstLine(file: string, options: ColumnarOptions): Promise<string> {
  const raw = createReadStream(file, { end: options.format === 'csv-gzip' ? undefined : 2 ** 20 - 1 });
  const text = options.format === 'csv-gzip' ? raw.pipe(createGunzip()) : raw;
  let head = '';
  try {
    for await (const chunk of text) {
      head += Buffer.from(chunk as Buffer).toString(options.encoding === 'latin-1' ? 'latin1' : options.encoding === 'utf-16' ? 'utf16le' : 'utf8');
      if (head.includes('\n') || head.length >= 2 ** 20) break;
    }
  } finally {
    raw.destroy();
  }
  return head.split(/\r?\n/)[0].replace(/^\uFEFF/, '');
}

function checkHeader(header: string[]): void {
  if (header.some((h) => h.includes('\0'))) throw new DatasetFormatError(`the header holds NUL bytes: the file is binary data, not text (${READABLE})`);
  const blank = header.findIndex((h) => h === '');
  if (blank >= 0) throw new DatasetFormatError(`header column ${blank + 1} has no name`);
  const seen = new Set<string>();
  for (const name of header) {
    if (seen.has(name)) throw new DatasetFormatError(`column ${JSON.stringify(name.slice(0, 40))} appears more than once in the header`);
    seen.add(name);
  }
}

/** Our own words for a file DuckDB refused; its messages quote the file's content, which may be secret. */
async function explainCsvFailure(err: unknown, file: string, options: ColumnarOptions, delimiter: string): Promise<DatasetFormatError> {
  const message = err instanceof Error ? err.message : String(err);
  if (/invalid unicode/i.test(message)) {
    const line = /CSV Error on Line: (\d+)/.exec(message)?.[1];
    return new DatasetFormatError(
      `the file is not valid ${options.encoding.toUpperCase()} text${line ? ` (line ${line})` : ''}${options.encoding === 'utf-8' ? ': save it as UTF-8, or set data.encoding to "latin-1" (or "utf-16") for files in that encoding' : ''}`,
    );
  }
  const raw = createReadStream(file);
  try {
    await scanCsv(options.format === 'csv-gzip' ? raw.pipe(createGunzip()) : raw, { delimiter });
  } catch (scanned) {
    // The delimiter comes from the header line: say so when it is not a comma, in case the rows use another.
    const read = delimiter === ',' ? '' : ` (the header was read with delimiter ${JSON.stringify(delimiter)})`;
    if (scanned instanceof CsvFormatError) return new DatasetFormatError(`${scanned.message}${read}`);
    if ((scanned as NodeJS.ErrnoException).code === 'Z_DATA_ERROR' || /incorrect header check|unexpected end of file/i.test(String(scanned))) {
      return new DatasetFormatError('the gzip stream is corrupt or truncated: upload the file again');
    }
  }
  return new DatasetFormatError(`malformed CSV: the file cannot be parsed as CSV with delimiter ${JSON.stringify(delimiter)} (${READABLE})`);
}

/**
 * Parses the raw parts (same header, in order) into one typed Parquet file at `out`.
 * Two passes over CSV: one decides each column's type, one writes it; Parquet input is read by column.
 */
export async function buildColumnar(db: DuckDBConnection, files: readonly string[], out: string, options: ColumnarOptions): Promise<ColumnarDataset> {
  let source: string;
  let names: string[];
  let textual: Set<string>;
  let delimiter: string | null = null;
  if (options.format === 'parquet') {
    source = `read_parquet(${literalList(files)})`;
    const described = await queryRows(db, `DESCRIBE SELECT * FROM ${source}`).catch(() => {
      throw new DatasetFormatError('the Parquet file is corrupt or truncated, or its parts do not share one schema: upload it again');
    });
    names = described.map((c) => String(c.column_name));
    checkHeader(names);
    const numericTypes = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL.*)$/;
    textual = new Set(described.filter((c) => !numericTypes.test(String(c.column_type))).map((c) => String(c.column_name)));
    // Text of other types (dates, booleans, lists) is compared as text, like a CSV's.
    source = `(SELECT ${names.map((n) => (textual.has(n) ? `CAST(${ident(n)} AS VARCHAR) AS ${ident(n)}` : ident(n))).join(', ')} FROM ${source})`;
  } else {
    if (options.format === 'csv-gzip') for (const file of files) await verifyGzip(file);
    delimiter = headerDelimiter(await firstLine(files[0], options));
    names = await readHeader(files[0], options, delimiter);
    checkHeader(names);
    // Parts of one dataset share its header: DuckDB would read a part with other columns under the first part's names.
    for (const [i, file] of files.entries()) {
      if (i > 0 && JSON.stringify(await readHeader(file, options, delimiter)) !== JSON.stringify(names)) {
        throw new DatasetFormatError(`part ${i + 1} of the dataset has a different header from part 1: every part must have the same columns in the same order`);
      }
    }
    source = csvReader(files, options, delimiter, names);
    textual = new Set(names);
  }

  // Pass 1: which text columns hold only numbers (and so are stored as DOUBLE).
  const candidates = names.filter((n) => textual.has(n) && !options.keepAsText.includes(n));
  // In a CSV the usual spellings of "missing" are NULL already; Parquet text gets the full (slower) check.
  const present = (v: string) => (options.format === 'parquet' ? `CASE WHEN ${missing(v)} THEN NULL ELSE ${v} END` : v);
  const typing = async () => {
    let typed: Record<string, unknown> = (await queryRows(db, `SELECT count(*) AS rows FROM ${source}`))[0];
    // Columns in batches: hundreds of aggregates in one query exhaust DuckDB's memory cap on wide files.
    for (let start = 0; start < candidates.length; start += COLUMNS_PER_PASS) {
      const counts = candidates.slice(start, start + COLUMNS_PER_PASS).map((n, k) => `count(${present(ident(n))}) AS p${start + k}, count(${asNumber(present(ident(n)))}) AS n${start + k}`);
      typed = { ...typed, ...(await queryRows(db, `SELECT ${counts.join(', ')} FROM ${source}`))[0] };
    }
    // Columns holding something besides plain numbers (rarely any but text), counted once more, in a CSV:
    // - a padded or oddly written missing value (" NA ", "nA") is still missing, not text;
    // - in a ";" file (European exports), "1234,5" is a number with a decimal comma.
    const mixed = options.format === 'parquet' ? [] : candidates.flatMap((_, i) => (Number(typed[`p${i}`]) > Number(typed[`n${i}`]) ? [i] : []));
    for (let start = 0; start < mixed.length; start += COLUMNS_PER_PASS) {
      const counts = mixed.slice(start, start + COLUMNS_PER_PASS).map((i) => {
        const v = ident(candidates[i]);
        const tokens = `count(*) FILTER (WHERE ${v} IS NOT NULL AND ${asNumber(v)} IS NULL AND ${missing(v)}) AS t${i}`;
        return delimiter === ';' ? `${tokens}, count(*) FILTER (WHERE ${DECIMAL_COMMA(v)}) AS c${i}` : tokens;
      });
      typed = { ...typed, ...(await queryRows(db, `SELECT ${counts.join(', ')} FROM ${source}`))[0] };
    }
    return typed;
  };
  let typed: Record<string, unknown>;
  try {
    typed = await typing();
  } catch (err) {
    if (engineError(err) !== err) throw engineError(err);
    if (options.format === 'parquet') throw new DatasetFormatError('the Parquet file cannot be read: it is corrupt or truncated');
    throw await explainCsvFailure(err, files[0], options, delimiter ?? ',');
  }
  const numeric = new Set(names.filter((n) => !textual.has(n)));
  const withNumbers = new Set<string>();
  const commaDecimals = new Set<string>();
  candidates.forEach((n, i) => {
    const [present, numbers, tokens, commas] = ['p', 'n', 't', 'c'].map((k) => Number(typed[`${k}${i}`] ?? 0));
    if (numbers > 0) withNumbers.add(n);
    if (numbers > 0 && present === numbers + tokens) numeric.add(n);
    else if (commas > 0 && present === commas + tokens) commaDecimals.add(n);
  });

  // Pass 2: the typed file. Text is trimmed and missing spellings become NULL.
  const select = names.map((n) => {
    const v = ident(n);
    // A NaN in a Parquet float column is a missing value, as in pandas.
    if (!textual.has(n)) return `CASE WHEN isnan(CAST(${v} AS DOUBLE)) THEN NULL ELSE CAST(${v} AS DOUBLE) END AS ${v}`;
    if (numeric.has(n)) return `${asNumber(present(v))} AS ${v}`;
    if (commaDecimals.has(n)) return `${asNumber(`replace(${v}, ',', '.')`)} AS ${v}`;
    return `CASE WHEN ${missing(v)} THEN NULL ELSE trim(${v}) END AS ${v}`;
  });
  // Each Parquet column writer buffers per thread: a wide file is written by one thread to stay under the
  // memory cap (1,200 columns needed more than 192MB with two).
  const wide = names.length > COLUMNS_PER_PASS;
  try {
    if (wide) await db.run('SET threads = 1');
    await db.run(`COPY (SELECT ${select.join(', ')} FROM ${source}) TO ${literal(out)} (FORMAT parquet, COMPRESSION zstd)`);
    if (wide) await db.run('RESET threads');
  } catch (err) {
    if (engineError(err) !== err) throw engineError(err);
    if (options.format === 'parquet') throw new DatasetFormatError('the Parquet file cannot be read: it is corrupt or truncated');
    throw await explainCsvFailure(err, files[0], options, delimiter ?? ',');
  }
  return {
    rows: Number(typed.rows),
    columns: names.map((name) => {
      const isNumeric = numeric.has(name) || commaDecimals.has(name);
      return { name, storedAs: isNumeric ? 'numeric' : 'text', hasNumbers: isNumeric || withNumbers.has(name) };
    }),
    delimiter: delimiter === ',' ? null : delimiter,
  };
}
