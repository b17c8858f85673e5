// What a dataset file is, told from its bytes rather than its name: a user's ".csv" may be gzip,
// Parquet or an Excel workbook, and the error must say so instead of "malformed CSV".

export type ReadableFormat = 'csv' | 'csv-gzip' | 'parquet';
/** A byte-order mark says UTF-16 whatever the lifecycle input says. */
export type Sniffed = { format: ReadableFormat; utf16?: true } | { refused: string };

const startsWith = (head: Uint8Array, magic: number[]) => magic.every((byte, i) => head[i] === byte);
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0));

/** Formats we recognise but cannot read, with what to do instead. */
const REFUSED: { magic: number[]; name: string }[] = [
  { magic: ascii('ARROW1'), name: 'an Arrow IPC file: export it as Parquet or CSV' },
  { magic: [0x50, 0x4b, 0x03, 0x04], name: 'a ZIP archive (or an Excel .xlsx workbook): export the sheet as CSV, or unzip it' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], name: 'an old Excel/Office document: export the sheet as CSV' },
  { magic: [0x42, 0x5a, 0x68], name: 'a bzip2 archive: decompress it or re-compress with gzip' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'an xz archive: decompress it or re-compress with gzip' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'a zstd archive: decompress it or re-compress with gzip' },
  { magic: ascii('SQLite format 3'), name: 'an SQLite database: export a table as CSV or Parquet' },
  { magic: [0x4f, 0x62, 0x6a, 0x01], name: 'an Avro file: export it as Parquet or CSV' },
  { magic: ascii('%PDF'), name: 'a PDF document' },
];

/**
 * Tells the format from the first bytes of the file and, for Parquet, its last four: a Parquet file
 * starts and ends with "PAR1"; one that only starts with it was cut short.
 */
export function sniffFormat(head: Uint8Array, tail: Uint8Array, size: number): Sniffed {
  if (size === 0) return { refused: 'the file is empty: a header row is expected' };
  if (startsWith(head, ascii('PAR1'))) {
    return size >= 12 && startsWith(tail.subarray(tail.length - 4), ascii('PAR1'))
      ? { format: 'parquet' }
      : { refused: 'a Parquet file that is truncated or corrupt (it does not end with the Parquet footer): upload it again' };
  }
  if (startsWith(head, [0x1f, 0x8b])) return { format: 'csv-gzip' };
  const known = REFUSED.find((r) => startsWith(head, r.magic));
  if (known) return { refused: `the file is ${known.name}; readable formats are CSV, gzip-compressed CSV and Parquet` };
  // UTF-16 text has a byte-order mark; other binary data has NUL bytes early on.
  if (startsWith(head, [0xff, 0xfe]) || startsWith(head, [0xfe, 0xff])) return { format: 'csv', utf16: true };
  if (head.subarray(0, 4096).includes(0)) {
    return { refused: 'the file is binary data, not text: readable formats are CSV, gzip-compressed CSV and Parquet' };
  }
  return { format: 'csv' };
}
