// readTable loads the columns a stage needs from the typed Parquet form into an in-memory Table. Checked
// against the values the test wrote, over more rows than one DuckDB chunk (2,048).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildColumnar } from '../../src/data/columnar';
import { withDuckDB } from '../../src/data/duckdb';
import { readSplit, readTable, type ColumnRequest } from '../../src/data/tableReader';
import { holdoutSplit } from '../../src/domain/split';
import type { Table } from '../../src/domain/table';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-table-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

/** Builds the typed form of the CSV and reads `columns` of it back. */
async function read(text: string, columns: ColumnRequest[], requireValue?: string, keepAsText: string[] = []): Promise<Table> {
  const file = path.join(dir, `in-${++counter}.csv`);
  const table = path.join(dir, `table-${counter}.parquet`);
  await fs.writeFile(file, text);
  return withDuckDB({}, async (db) => {
    await buildColumnar(db, [file], table, { format: 'csv', encoding: 'utf-8', keepAsText });
    return readTable(db, table, columns, requireValue);
  });
}

const numbers = (t: Table, name: string) => {
  const c = t.columns[name];
  if (c.kind !== 'numeric') throw new Error(`${name} is not numeric`);
  return c.values;
};
const strings = (t: Table, name: string) => {
  const c = t.columns[name];
  if (c.kind !== 'categorical') throw new Error(`${name} is not categorical`);
  return c.values;
};

describe('readTable', () => {
  // 5,000 rows: price (missing every 7th row), km (missing every 11th), fuel (missing every 13th).
  const ROWS = 5000;
  const price = (r: number) => (r % 7 === 3 ? null : 1000 + r * 0.5);
  const km = (r: number) => (r % 11 === 5 ? null : (r * 37) % 1000);
  const fuel = (r: number) => (r % 13 === 0 ? null : ['diesel', 'petrol', 'electric'][r % 3]);
  const text = `price,km,fuel,unused\n${Array.from({ length: ROWS }, (_, r) => `${price(r) ?? ''},${km(r) ?? 'NA'},${fuel(r) ?? 'n/a'},x`).join('\n')}\n`;
  const request: ColumnRequest[] = [
    { name: 'km', type: 'numeric' },
    { name: 'fuel', type: 'categorical' },
    { name: 'price', type: 'numeric' },
  ];

  it('reads numeric columns as Float64Array (NaN = missing) and categorical ones as strings (null = missing), in file order', async () => {
    const t = await read(text, request);
    expect(t.rowCount).toBe(ROWS);
    expect(Object.keys(t.columns).sort()).toEqual(['fuel', 'km', 'price']);
    expect(numbers(t, 'km')).toBeInstanceOf(Float64Array);
    const rows = Array.from({ length: ROWS }, (_, r) => r);
    expect(Array.from(numbers(t, 'km'))).toEqual(rows.map((r) => km(r) ?? Number.NaN));
    expect(Array.from(numbers(t, 'price'))).toEqual(rows.map((r) => price(r) ?? Number.NaN));
    expect(strings(t, 'fuel')).toEqual(rows.map(fuel));
  });

  it('leaves out the rows where the required column (the target) is missing', async () => {
    const t = await read(text, request, 'price');
    const kept = Array.from({ length: ROWS }, (_, r) => r).filter((r) => price(r) !== null);
    expect(kept.length).toBeLessThan(ROWS);
    expect(t.rowCount).toBe(kept.length);
    expect(Array.from(numbers(t, 'price'))).toEqual(kept.map((r) => price(r)));
    expect(Array.from(numbers(t, 'km'))).toEqual(kept.map((r) => km(r) ?? Number.NaN));
    expect(strings(t, 'fuel')).toEqual(kept.map(fuel));
  });

  it('reads a text column as numbers where the schema says numeric: words become NaN', async () => {
    const t = await read('km\n1\n12k\n 3 \nNA\n1e3\n', [{ name: 'km', type: 'numeric' }]);
    expect(Array.from(numbers(t, 'km'))).toEqual([1, Number.NaN, 3, Number.NaN, 1000]);
  });

  it('reads a column kept as text as categories, leading zeros included', async () => {
    const t = await read('zip,n\n02134,1\n10001,2\n,3\n', [{ name: 'zip', type: 'categorical' }], undefined, ['zip']);
    expect(strings(t, 'zip')).toEqual(['02134', '10001', null]);
  });

  it('reads names that need quoting in SQL', async () => {
    const t = await read('"we""ird, name",b\n1,2\n', [{ name: 'we"ird, name', type: 'numeric' }]);
    expect(Array.from(numbers(t, 'we"ird, name'))).toEqual([1]);
  });

  it('refuses a column that is not in the dataset, naming it', async () => {
    await expect(read('a\n1\n', [{ name: 'b', type: 'numeric' }])).rejects.toThrow('column "b" is not in the dataset');
  });

  it('a header-only dataset gives an empty table', async () => {
    const t = await read('a,b\n', [
      { name: 'a', type: 'numeric' },
      { name: 'b', type: 'categorical' },
    ]);
    expect(t.rowCount).toBe(0);
    expect(numbers(t, 'a')).toHaveLength(0);
    expect(strings(t, 'b')).toEqual([]);
  });
});

describe('readSplit', () => {
  it('puts each usable row on the side holdoutSplit gives it, in order, and loads only the sides asked for', async () => {
    const rows = 4321;
    const y = (r: number) => (r % 10 === 9 ? null : r);
    const csv = `y,c\n${Array.from({ length: rows }, (_, r) => `${y(r) ?? ''},${['a', 'b'][r % 2]}`).join('\n')}\n`;
    const file = path.join(dir, `split-${++counter}.csv`);
    const table = path.join(dir, `split-${counter}.parquet`);
    await fs.writeFile(file, csv);
    const columns: ColumnRequest[] = [{ name: 'y', type: 'numeric' }, { name: 'c', type: 'categorical' }];
    const split = { seed: 7, holdoutFraction: 0.25 };
    const { both, trainOnly, all } = await withDuckDB({}, async (db) => {
      await buildColumnar(db, [file], table, { format: 'csv', encoding: 'utf-8', keepAsText: [] });
      return {
        both: await readSplit(db, table, columns, 'y', { ...split, sides: ['train', 'holdout'] }),
        trainOnly: await readSplit(db, table, columns, 'y', { ...split, sides: ['train'] }),
        all: await readTable(db, table, columns, 'y'),
      };
    });
    // The reference: the whole table (rows without a target left out), divided by the split's indices.
    const expected = holdoutSplit(all.rowCount, split);
    const ys = numbers(all, 'y');
    expect(Array.from(numbers(both.train, 'y'))).toEqual(Array.from(expected.train, (i) => ys[i]));
    expect(Array.from(numbers(both.holdout, 'y'))).toEqual(Array.from(expected.holdout, (i) => ys[i]));
    expect(strings(both.holdout, 'c')).toEqual(Array.from(expected.holdout, (i) => strings(all, 'c')[i]));
    expect(both.train.rowCount + both.holdout.rowCount).toBe(all.rowCount);
    expect(Array.from(numbers(trainOnly.train, 'y'))).toEqual(Array.from(numbers(both.train, 'y')));
    expect(trainOnly.holdout.rowCount).toBe(0);
  });
});
