// sniffFormat tells a dataset's format from its bytes, as the ingest activity reads them: the first 4 KiB,
// the last 4 bytes and the size. Every file here is real bytes: gzip from node:zlib, Parquet written by
// DuckDB, a truncated Parquet cut from a real one, and the magic numbers of the formats we refuse.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDuckDB } from '../../src/data/duckdb';
import { sniffFormat, type Sniffed } from '../../src/data/format';

/** As the ingest activity calls it: head = up to 4 KiB, tail = up to the last 4 bytes. */
const sniff = (bytes: Buffer): Sniffed => sniffFormat(bytes.subarray(0, Math.min(bytes.length, 4096)), bytes.subarray(Math.max(0, bytes.length - 4)), bytes.length);
const refusal = (bytes: Buffer): string => {
  const sniffed = sniff(bytes);
  if (!('refused' in sniffed)) throw new Error(`expected a refusal, got ${JSON.stringify(sniffed)}`);
  return sniffed.refused;
};
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

const CSV = 'price,km,fuel\n100,1.5,diesel\n200,2,petrol\n';
const READABLE = 'readable formats are CSV, gzip-compressed CSV and Parquet';

let dir: string;
let parquet: Buffer;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-format-'));
  const file = path.join(dir, 'cars.parquet');
  await withDuckDB({}, (db) => db.run(`COPY (SELECT range AS price, range * 1.5 AS km, 'diesel' AS fuel FROM range(1000)) TO '${file}' (FORMAT parquet)`));
  parquet = await fs.readFile(file);
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('sniffFormat: readable formats', () => {
  it('plain CSV text is CSV, also with a UTF-8 byte order mark or CRLF endings', () => {
    expect(sniff(Buffer.from(CSV))).toEqual({ format: 'csv' });
    expect(sniff(bytes([0xef, 0xbb, 0xbf], CSV))).toEqual({ format: 'csv' });
    expect(sniff(Buffer.from(CSV.replaceAll('\n', '\r\n')))).toEqual({ format: 'csv' });
  });

  it('latin-1 text (bytes above 0x7f, no NUL) is CSV', () => {
    expect(sniff(Buffer.from('name,city\n1,Besançon\n', 'latin1'))).toEqual({ format: 'csv' });
  });

  it('UTF-16 text with a byte order mark (LE or BE) is CSV read as UTF-16, though it is full of NUL bytes', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CSV, 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(CSV, 'utf16le').swap16()]);
    expect(le.includes(0)).toBe(true);
    expect(sniff(le)).toEqual({ format: 'csv', utf16: true });
    expect(sniff(be)).toEqual({ format: 'csv', utf16: true });
  });

  it('gzip-compressed CSV (node:zlib) is csv-gzip, whatever the file is called', () => {
    expect(sniff(gzipSync(CSV))).toEqual({ format: 'csv-gzip' });
  });

  it('a Parquet file written by DuckDB is Parquet', () => {
    expect(parquet.subarray(0, 4).toString('latin1')).toBe('PAR1');
    expect(sniff(parquet)).toEqual({ format: 'parquet' });
  });
});

describe('sniffFormat: refusals', () => {
  it('refuses an empty file', () => {
    expect(refusal(Buffer.alloc(0))).toBe('the file is empty: a header row is expected');
  });

  it('refuses a Parquet file cut short (no footer), at any cut', () => {
    for (const cut of [parquet.length - 1, parquet.length - 4, Math.floor(parquet.length / 2), 12, 4]) {
      expect(refusal(parquet.subarray(0, cut))).toMatch(/^a Parquet file that is truncated or corrupt \(it does not end with the Parquet footer\)/);
    }
  });

  it('refuses "PAR1PAR1" (8 bytes: magic at both ends but no room for a footer)', () => {
    expect(refusal(Buffer.from('PAR1PAR1'))).toMatch(/^a Parquet file that is truncated/);
  });

  it.each([
    ['an Arrow IPC file', bytes('ARROW1', [0, 0], 'rest of the file'), /^the file is an Arrow IPC file: export it as Parquet or CSV; /],
    ['a ZIP archive or .xlsx workbook', bytes('PK', [0x03, 0x04], [20, 0, 0, 0], '[Content_Types].xml'), /^the file is a ZIP archive \(or an Excel \.xlsx workbook\)/],
    ['an old Office document', bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1], [0, 0, 0, 0]), /^the file is an old Excel\/Office document/],
    ['a bzip2 archive', bytes('BZh91AY&SY', [0x12, 0x34]), /^the file is a bzip2 archive: decompress it or re-compress with gzip/],
    ['an xz archive', bytes([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04]), /^the file is an xz archive/],
    ['a zstd archive', bytes([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x04]), /^the file is a zstd archive/],
    ['an SQLite database', bytes('SQLite format 3', [0], [0x10, 0x00, 0x01, 0x01]), /^the file is an SQLite database: export a table as CSV or Parquet/],
    ['an Avro file', bytes('Obj', [0x01], [0x04, 0x14], 'avro.codec'), /^the file is an Avro file/],
    ['a PDF document', bytes('%PDF-1.7\n%', [0xe2, 0xe3, 0xcf, 0xd3], '\n1 0 obj'), /^the file is a PDF document/],
  ])('refuses %s by its magic number, saying what to do', (_, file, message) => {
    const refused = refusal(file);
    expect(refused).toMatch(message);
    expect(refused).toContain(READABLE);
  });

  it('refuses binary data (a NUL byte in the first 4 KiB) that is no known format', () => {
    const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256));
    expect(refusal(binary)).toBe(`the file is binary data, not text: ${READABLE}`);
    expect(refusal(bytes('price,km\n1,2\n', [0], '3,4\n'))).toMatch(/^the file is binary data/);
  });

  it('looks for NUL bytes in the first 4 KiB only (what the activity reads)', () => {
    const late = Buffer.concat([Buffer.from(`a,b\n${'1,2\n'.repeat(1100)}`), Buffer.from([0])]);
    expect(late.indexOf(0)).toBeGreaterThan(4096);
    expect(sniff(late)).toEqual({ format: 'csv' });
  });

  it('the refusal of a file never quotes its content', () => {
    const secret = 'hunter2-password';
    for (const file of [bytes('PK', [3, 4], secret), bytes(secret, [0], secret), bytes('PAR1', secret)]) expect(refusal(file)).not.toContain(secret);
  });
});
