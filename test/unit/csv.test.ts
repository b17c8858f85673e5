// scanCsv reads a CSV to its end without keeping it, to explain in our words a file DuckDB refused. The
// values themselves are DuckDB's business now (test/unit/columnar.test.ts): here, the header, the row count
// and every malformed-file message.
import { Readable } from 'node:stream';
import { describe, it, expect } from 'vitest';
import { CsvFormatError, scanCsv } from '../../src/data/csv';

const scan = (text: string | Buffer, options?: { delimiter?: string }) => scanCsv(Readable.from([text]), options);

/** Feeds the text in small chunks so records and quotes straddle chunk boundaries. */
const chunked = (text: string, size: number) => {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return scanCsv(Readable.from(parts));
};

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected scanCsv to fail');
}

describe('scanCsv: well-formed files', () => {
  it('returns the header and counts the data rows', async () => {
    expect(await scan('price,km,fuel\n100,1.5,diesel\n200, 2 ,petrol\n')).toEqual({ header: ['price', 'km', 'fuel'], rowCount: 2 });
  });

  it('trims header names', async () => {
    expect((await scan(' price , km\n1,2\n')).header).toEqual(['price', 'km']);
  });

  it('counts a quoted field with embedded commas, newlines and doubled quotes as one field of one row', async () => {
    expect(await scan('name,notes\n"Smith, J.","line one\nline two"\n"say ""hi""",x\n')).toEqual({ header: ['name', 'notes'], rowCount: 2 });
  });

  it('gives the same result when the input arrives in 3-byte chunks', async () => {
    const text = 'name,notes\n"Smith, J.","line one\nline two"\n"say ""hi""",x\n';
    expect(await chunked(text, 3)).toEqual({ header: ['name', 'notes'], rowCount: 2 });
  });

  it('strips a UTF-8 byte order mark, also before a quoted first name', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const plain = await scan(Buffer.concat([bom, Buffer.from('price,km\n1,2\n')]));
    expect(plain.header).toEqual(['price', 'km']);
    expect(plain.header[0].length).toBe(5);
    // Without BOM handling the quote would not open the field (the BOM comes first) and the row would be refused.
    expect(await scan(Buffer.concat([bom, Buffer.from('"price","km"\n1,2\n')]))).toEqual({ header: ['price', 'km'], rowCount: 1 });
  });

  it('accepts CRLF line endings and a missing final newline', async () => {
    expect(await scan('a,b\r\n1,2\r\n3,4\r\n')).toEqual({ header: ['a', 'b'], rowCount: 2 });
    expect(await scan('a,b\n1,2\n3,4')).toEqual({ header: ['a', 'b'], rowCount: 2 });
  });

  it('counts rows of empty fields and skips blank lines', async () => {
    expect((await scan('a,b,c\n1,,3\n,,\n')).rowCount).toBe(2);
    expect((await scan('a,b\n1,2\n\n3,4\n\n')).rowCount).toBe(2);
  });

  it('uses the given delimiter; with the default one a semicolon file is one column', async () => {
    expect(await scan('price;km\n1,5;2\n3;"4;5"\n', { delimiter: ';' })).toEqual({ header: ['price', 'km'], rowCount: 2 });
    expect((await scan('price;km\n1;2\n')).header).toEqual(['price;km']);
    expect(await scan('a\tb\n1\t2\n', { delimiter: '\t' })).toEqual({ header: ['a', 'b'], rowCount: 1 });
  });

  it('a header-only file has no rows', async () => {
    expect(await scan('a,b\n')).toEqual({ header: ['a', 'b'], rowCount: 0 });
  });
});

describe('scanCsv: malformed files', () => {
  it('refuses an empty file, and a file of blank lines, as empty', async () => {
    for (const text of ['', '\n\n\n']) {
      const err = await failure(scan(text));
      expect(err).toBeInstanceOf(CsvFormatError);
      expect(err.name).toBe('CsvFormatError');
      expect(err.message).toBe('the file is empty: a header row is expected');
    }
  });

  it('refuses a row with too many fields, naming the line', async () => {
    const err = await failure(scan('a,b\n1,2\n3,4,5\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toBe('malformed CSV at line 3: a row has a different number of fields than the header');
  });

  it('refuses a row with too few fields, naming the line', async () => {
    const err = await failure(scan('a,b\n1,2\n3,4\n5\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toMatch(/^malformed CSV at line 4: a row has a different number of fields/);
  });

  it('counts embedded newlines when naming the line of a ragged row', async () => {
    // The quoted field spans lines 2-3, so the ragged row is on line 4.
    const err = await failure(scan('a,b\n"x\ny",1\n1,2,3\n'));
    expect(err.message).toMatch(/line 4\b/);
  });

  it('counts skipped blank lines when naming the line', async () => {
    const err = await failure(scan('a,b\n\n1,2\n\n3\n'));
    expect(err.message).toMatch(/line 5\b/);
  });

  it('refuses an unclosed quote and an unescaped quote inside a quoted field', async () => {
    const unclosed = await failure(scan('a,b\n"1,2\n3,4\n'));
    expect(unclosed).toBeInstanceOf(CsvFormatError);
    expect(unclosed.message).toMatch(/^malformed CSV at line \d+: a quoted field is never closed \(unbalanced quote\)$/);
    const unescaped = await failure(scan('a,b\n"ab"cd",2\n'));
    expect(unescaped.message).toBe('malformed CSV at line 2: a quote inside a field is not escaped (unbalanced quote)');
  });

  it('never pastes the file content into its message', async () => {
    for (const text of ['a,b\n"secret-value-1234"x,2\n', 'a,b\n1,2\nhunter2-password,4,5\n', 'k\n"unterminated hunter2-password\n', 'a,b\n"hunter2"more,1\n']) {
      const err = await failure(scan(text));
      expect(err).toBeInstanceOf(CsvFormatError);
      expect(err.message).not.toMatch(/secret-value|hunter2/);
      expect(err.message).toMatch(/^malformed CSV at line \d+: /);
    }
  });

  it('refuses a header with a blank column name, giving its 1-based position', async () => {
    const err = await failure(scan('a, ,c\n1,2,3\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toBe('header column 2 has no name');
  });

  it('propagates an error of the source stream as it is', async () => {
    const source = new Readable({
      read() {
        this.push('a,b\n1,2\n');
        this.destroy(new Error('disk on fire'));
      },
    });
    const err = await failure(scanCsv(source));
    expect(err).not.toBeInstanceOf(CsvFormatError);
    expect(err.message).toContain('disk on fire');
  });
});
