// Column types come from profiles now: what DuckDB reads as a number (through buildColumnar), and how
// columnType / inferSchema (src/domain/validation.ts) type a column from its profile.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildColumnar } from '../../src/data/columnar';
import { withDuckDB } from '../../src/data/duckdb';
import { profileColumnar } from '../../src/data/profiler';
import type { ColumnProfile, DatasetProfile } from '../../src/domain/profile';
import { columnType, inferSchema } from '../../src/domain/validation';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-schema-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
/** A CSV of equal-length columns. */
const csv = (columns: Record<string, string[]>) => {
  const names = Object.keys(columns);
  const rows = columns[names[0]].map((_, r) => names.map((n) => cell(columns[n][r])).join(','));
  return `${[names.join(','), ...rows].join('\n')}\n`;
};

async function profileOf(text: string, keepAsText: string[] = []): Promise<DatasetProfile> {
  const file = path.join(dir, `in-${++counter}.csv`);
  const out = path.join(dir, `out-${counter}.parquet`);
  await fs.writeFile(file, text);
  return withDuckDB({}, async (db) => profileColumnar(db, out, await buildColumnar(db, [file], out, { format: 'csv', encoding: 'utf-8', keepAsText })));
}
const columnOf = (profile: DatasetProfile, name: string): ColumnProfile => profile.columns.find((c) => c.name === name)!;
const seq = (n: number, from = 1) => Array.from({ length: n }, (_, i) => String(from + i));

describe('numbers, as DuckDB reads them through buildColumnar', () => {
  it.each([
    ['1e5', 100_000],
    [' 2 ', 2],
    ['+3', 3],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['5.', 5],
    ['007', 7],
    ['2.5E-2', 0.025],
    ['1e+2', 100],
    ['-12.75', -12.75],
  ])('%j is the number %d', async (text, value) => {
    const x = columnOf(await profileOf(csv({ x: [text, '1'] })), 'x');
    expect(x.storedAs).toBe('numeric');
    expect(x.nonNumeric).toBe(0);
    expect(x.numeric).toMatchObject({ count: 2, min: Math.min(value, 1), max: Math.max(value, 1), huge: 0 });
  });

  it.each(['12k', '1,000', '0x10', '1e', 'e5', '.', '-', '+', '1.2.3', '1 000', '$5', '5%', '--1', 'abc', '0b101', '1d5'])(
    '%j is text: the column is stored as text and the value counted as not a number',
    async (text) => {
      const x = columnOf(await profileOf(csv({ x: ['1', text, '2'] })), 'x');
      expect(x.storedAs).toBe('text');
      expect(x.nonNumeric).toBe(1);
      expect(x.numeric).toMatchObject({ count: 2, min: 1, max: 2, huge: 0 });
      expect(x.examples.nonNumeric).toEqual([{ row: 2, value: text }]);
    },
  );

  it.each(['Infinity', '-Infinity', 'inf', '1e999', '-1e999', '1e308', '-1e101'])('%j is a number too large to train on: counted as huge, not in the statistics', async (text) => {
    const x = columnOf(await profileOf(csv({ x: ['1', text, '3'] })), 'x');
    expect(x.storedAs).toBe('numeric');
    expect(x.nonNumeric).toBe(0);
    expect(x.numeric).toMatchObject({ count: 2, min: 1, max: 3, mean: 2, huge: 1 });
  });

  it('1e100 itself is not huge', async () => {
    expect(columnOf(await profileOf(csv({ x: ['1', '1e100'] })), 'x').numeric).toMatchObject({ count: 2, max: 1e100, huge: 0 });
  });
});

describe('columnType', () => {
  it('a column stored as numbers is numeric at any share; the model schema wins over the data', async () => {
    const p = await profileOf(csv({ km: seq(5), fuel: ['a', 'b', 'a', 'b', 'a'] }));
    expect(columnType(columnOf(p, 'km'), 1)).toBe('numeric');
    expect(columnType(columnOf(p, 'fuel'), 0)).toBe('categorical');
    expect(columnType(columnOf(p, 'km'), 0.95, { name: 'km', type: 'categorical', nullable: false })).toBe('categorical');
    expect(columnType(columnOf(p, 'fuel'), 0.95, { name: 'fuel', type: 'numeric', nullable: false })).toBe('numeric');
  });

  it('a text column is numeric when at least numericShare of its present values are numbers', async () => {
    // 19 numbers + 1 word: exactly 95%; 18 numbers + 2 words: 90%.
    const p = await profileOf(csv({ a: [...seq(19), 'abc'], b: [...seq(18), 'abc', 'def'] }));
    expect(columnType(columnOf(p, 'a'), 0.95)).toBe('numeric');
    expect(columnType(columnOf(p, 'a'), 0.96)).toBe('categorical');
    expect(columnType(columnOf(p, 'b'), 0.95)).toBe('categorical');
    expect(columnType(columnOf(p, 'b'), 0.9)).toBe('numeric');
  });

  it('just below the share is categorical (37 numbers of 39 present ≈ 94.9%)', async () => {
    const p = await profileOf(csv({ a: [...seq(37), 'x', 'y'] }));
    expect(columnType(columnOf(p, 'a'), 0.95)).toBe('categorical');
  });

  it('ignores missing values in the share', async () => {
    // 19 numbers, 1 word, 10 missing: 19 of 20 present values are numbers.
    const p = await profileOf(csv({ a: [...seq(19), 'abc', ...Array<string>(10).fill('NA')] }));
    expect(columnOf(p, 'a').missing).toBe(10);
    expect(columnType(columnOf(p, 'a'), 0.95)).toBe('numeric');
  });

  it('counts huge values as numbers in the share', async () => {
    // 18 numbers, 1 "Infinity", 1 word: 19 of 20 are numbers.
    const p = await profileOf(csv({ a: [...seq(18), 'Infinity', 'abc'] }));
    const a = columnOf(p, 'a');
    expect(a).toMatchObject({ storedAs: 'text', nonNumeric: 1 });
    expect(a.numeric).toMatchObject({ count: 18, huge: 1 });
    expect(columnType(a, 0.95)).toBe('numeric');
  });

  it('"12k"-style values and an all-missing column are categorical', async () => {
    const p = await profileOf(csv({ a: ['12k', '13k', '14k'], b: ['', 'NA', 'null'] }));
    expect(columnType(columnOf(p, 'a'), 0.95)).toBe('categorical');
    expect(columnType(columnOf(p, 'b'), 0.95)).toBe('categorical');
  });
});

describe('inferSchema', () => {
  it('types each column, marks it nullable when a value is missing, and keeps the range of numbers', async () => {
    const p = await profileOf(csv({ km: ['1', '2.5', '-3'], fuel: ['diesel', 'petrol', 'diesel'], holey: ['1', '', '3'], wordy: ['a', 'n/a', 'b'] }));
    expect(inferSchema(p, 0.95).columns).toEqual([
      { name: 'km', type: 'numeric', nullable: false, min: -3, max: 2.5 },
      { name: 'fuel', type: 'categorical', nullable: false, values: ['diesel', 'petrol'] },
      { name: 'holey', type: 'numeric', nullable: true, min: 1, max: 3 },
      { name: 'wordy', type: 'categorical', nullable: true, values: ['a', 'b'] },
    ]);
  });

  it('a text column numeric by share gets the range of its numbers', async () => {
    const p = await profileOf(csv({ a: [...seq(19, 10), 'oops'] }));
    expect(inferSchema(p, 0.95).columns[0]).toEqual({ name: 'a', type: 'numeric', nullable: false, min: 10, max: 28 });
  });

  it('lists the categories, sorted, when all of them fit in the profile; none when there are more', async () => {
    const few = Array.from({ length: 98 }, (_, i) => `c${String(i % 49).padStart(2, '0')}`);
    const many = Array.from({ length: 98 }, (_, i) => `c${String(i % 60).padStart(2, '0')}`);
    const [a, b] = inferSchema(await profileOf(csv({ a: few, b: many })), 0.95).columns;
    expect(a.values).toEqual(Array.from({ length: 49 }, (_, i) => `c${String(i).padStart(2, '0')}`));
    expect(b).toEqual({ name: 'b', type: 'categorical', nullable: false });
  });

  it('a column with no values is categorical and nullable, with no domain', async () => {
    const p = await profileOf(csv({ a: ['1', '2'], b: ['', 'NA'] }));
    expect(inferSchema(p, 0.95).columns[1]).toEqual({ name: 'b', type: 'categorical', nullable: true });
  });

  it('a header-only file: every column categorical, not nullable', async () => {
    expect(inferSchema(await profileOf('a,b\n'), 0.95).columns).toEqual([
      { name: 'a', type: 'categorical', nullable: false },
      { name: 'b', type: 'categorical', nullable: false },
    ]);
  });

  it('a column kept as text (pinned categorical) keeps its codes as categories', async () => {
    const p = await profileOf(csv({ zip: ['02134', '10001', '02134'] }), ['zip']);
    expect(inferSchema(p, 0.95).columns[0]).toEqual({ name: 'zip', type: 'categorical', nullable: false, values: ['02134', '10001'] });
  });
});
