import { Readable } from 'node:stream';
import { describe, it, expect } from 'vitest';
import { CsvFormatError, readCsv } from '../../src/data/csv';

const csv = (text: string | Buffer, options?: { delimiter?: string }) => readCsv(Readable.from([text]), options);

/** Feeds the text in small chunks so records and quotes straddle chunk boundaries. */
const chunked = (text: string, size: number) => {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return readCsv(Readable.from(parts));
};

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected readCsv to fail');
}

describe('readCsv', () => {
  it('reads a header and column-major string columns, values untouched', async () => {
    const t = await csv('price,km,fuel\n100,1.5,diesel\n200, 2 ,petrol\n');
    expect(t.header).toEqual(['price', 'km', 'fuel']);
    expect(t.columns).toEqual([
      ['100', '200'],
      ['1.5', ' 2 '],
      ['diesel', 'petrol'],
    ]);
    expect(t.rowCount).toBe(2);
  });

  it('trims header names', async () => {
    const t = await csv(' price , km\n1,2\n');
    expect(t.header).toEqual(['price', 'km']);
  });

  it('handles quoted fields with embedded commas, newlines and doubled quotes', async () => {
    const t = await csv('name,notes\n"Smith, J.","line one\nline two"\n"say ""hi""",x\n');
    expect(t.rowCount).toBe(2);
    expect(t.columns[0]).toEqual(['Smith, J.', 'say "hi"']);
    expect(t.columns[1]).toEqual(['line one\nline two', 'x']);
  });

  it('gives the same result when the input arrives in small chunks', async () => {
    const text = 'name,notes\n"Smith, J.","line one\nline two"\n"say ""hi""",x\n';
    const t = await chunked(text, 3);
    expect(t.columns[0]).toEqual(['Smith, J.', 'say "hi"']);
    expect(t.columns[1]).toEqual(['line one\nline two', 'x']);
  });

  it('strips a UTF-8 byte order mark from the first header name', async () => {
    const t = await csv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('price,km\n1,2\n')]));
    expect(t.header).toEqual(['price', 'km']);
    expect(t.header[0].length).toBe(5);
  });

  it('strips a BOM before a quoted first header name', async () => {
    // without BOM handling the quote would not open the field (the BOM comes first)
    const t = await csv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('"price","km"\n1,2\n')]));
    expect(t.header).toEqual(['price', 'km']);
    expect(t.columns).toEqual([['1'], ['2']]);
  });

  it('accepts CRLF line endings without leaving \\r in values', async () => {
    const t = await csv('a,b\r\n1,2\r\n3,4\r\n');
    expect(t.header).toEqual(['a', 'b']);
    expect(t.columns).toEqual([
      ['1', '3'],
      ['2', '4'],
    ]);
  });

  it('accepts a missing final newline', async () => {
    const t = await csv('a,b\n1,2\n3,4');
    expect(t.rowCount).toBe(2);
    expect(t.columns[1]).toEqual(['2', '4']);
  });

  it('keeps empty fields as empty strings', async () => {
    const t = await csv('a,b,c\n1,,3\n,,\n');
    expect(t.rowCount).toBe(2);
    expect(t.columns).toEqual([
      ['1', ''],
      ['', ''],
      ['3', ''],
    ]);
  });

  it('skips blank lines between rows', async () => {
    const t = await csv('a,b\n1,2\n\n3,4\n');
    expect(t.rowCount).toBe(2);
    expect(t.columns[0]).toEqual(['1', '3']);
  });

  it('uses a custom delimiter', async () => {
    const t = await csv('price;km\n1,5;2\n3;"4;5"\n', { delimiter: ';' });
    expect(t.header).toEqual(['price', 'km']);
    expect(t.columns).toEqual([
      ['1,5', '3'],
      ['2', '4;5'],
    ]);
  });

  it('with the default delimiter a semicolon file is one column', async () => {
    const t = await csv('price;km\n1;2\n');
    expect(t.header).toEqual(['price;km']);
  });

  it('a header-only file gives rowCount 0 and empty columns', async () => {
    const t = await csv('a,b\n');
    expect(t).toEqual({ header: ['a', 'b'], columns: [[], []], rowCount: 0 });
  });

  it('refuses an empty file', async () => {
    const err = await failure(csv(''));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.name).toBe('CsvFormatError');
    expect(err.message).toContain('empty');
  });

  it('refuses a file of blank lines as empty', async () => {
    const err = await failure(csv('\n\n\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toContain('empty');
  });

  it('refuses a row with too many fields, naming the line', async () => {
    const err = await failure(csv('a,b\n1,2\n3,4,5\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toMatch(/line 3\b/);
  });

  it('refuses a row with too few fields, naming the line', async () => {
    const err = await failure(csv('a,b\n1,2\n3,4\n5\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toMatch(/line 4\b/);
  });

  it('counts embedded newlines when naming the line of a ragged row', async () => {
    // the quoted field spans lines 2-3, so the ragged row is on line 4
    const err = await failure(csv('a,b\n"x\ny",1\n1,2,3\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toMatch(/line 4\b/);
  });

  it('refuses an unbalanced quote', async () => {
    const err = await failure(csv('a,b\n"1,2\n3,4\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toMatch(/quote/i);
  });

  it('never pastes the file content into its message', async () => {
    for (const text of ['a,b\n"secret-value-1234"x,2\n', 'a,b\n1,2\nhunter2-password,4,5\n', 'k\n"unterminated hunter2-password\n']) {
      const err = await failure(csv(text));
      expect(err).toBeInstanceOf(CsvFormatError);
      expect(err.message).not.toMatch(/secret-value|hunter2/);
      expect(err.message).toMatch(/^malformed CSV at line \d+: /);
    }
  });

  it('refuses a header with a blank column name, giving its 1-based position', async () => {
    const err = await failure(csv('a, ,c\n1,2,3\n'));
    expect(err).toBeInstanceOf(CsvFormatError);
    expect(err.message).toContain('header column 2');
  });

  it('propagates an error of the source stream', async () => {
    const source = new Readable({
      read() {
        this.push('a,b\n1,2\n');
        this.destroy(new Error('disk on fire'));
      },
    });
    const err = await failure(readCsv(source));
    expect(err.message).toContain('disk on fire');
  });
});
