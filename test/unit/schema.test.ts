import { describe, it, expect } from 'vitest';
import { NUMERIC_SHARE, columnIndex, inferSchema, isMissing, parseNumber, toTable, type RawTable } from '../../src/domain/schema';

function raw(columns: Record<string, string[]>): RawTable {
  const header = Object.keys(columns);
  const cols = header.map((h) => columns[h]);
  return { header, columns: cols, rowCount: cols[0]?.length ?? 0 };
}

describe('isMissing', () => {
  it.each(['', '   ', 'NA', 'na', 'n/a', 'N/A', 'NaN', 'nan', 'null', 'NULL', 'None', 'none', '?', '  NA  ', '\t?\t'])(
    'treats %j as missing',
    (token) => {
      expect(isMissing(token)).toBe(true);
    },
  );

  it.each(['0', '-', 'N', 'nil', 'missing', 'n.a.', 'abc', '0.0', 'false'])('treats %j as a present value', (token) => {
    expect(isMissing(token)).toBe(false);
  });
});

describe('parseNumber', () => {
  it.each([
    ['1e3', 1000],
    [' 42 ', 42],
    ['-.5', -0.5],
    ['+3', 3],
    ['0', 0],
    ['5.', 5],
    ['.25', 0.25],
    ['-12.75', -12.75],
    ['2.5E-2', 0.025],
    ['1e+2', 100],
    ['007', 7],
  ])('parses %j as %d', (text, expected) => {
    expect(parseNumber(text)).toBe(expected);
  });

  it.each(['12k', '1,000', '0x10', 'Infinity', '-Infinity', 'inf', '1e', 'e5', '.', '-', '+', '1.2.3', '1 000', '$5', '5%', '--1', 'abc', '1_000', '0b101'])(
    'rejects %j (present but not a number)',
    (text) => {
      expect(parseNumber(text)).toBeUndefined();
    },
  );

  it.each(['', 'NA', 'null', '?', '  '])('returns NaN (missing) for %j', (text) => {
    expect(Number.isNaN(parseNumber(text))).toBe(true);
  });
});

describe('inferSchema', () => {
  it('types a column of numbers as numeric and a column of words as categorical', () => {
    const schema = inferSchema(raw({ km: ['1', '2.5', '-3'], fuel: ['diesel', 'petrol', 'diesel'] }));
    expect(schema.columns).toEqual([
      { name: 'km', type: 'numeric', nullable: false },
      { name: 'fuel', type: 'categorical', nullable: false },
    ]);
  });

  it('uses a 95% share of present values as the numeric threshold', () => {
    expect(NUMERIC_SHARE).toBe(0.95);
    // 19 numbers + 1 word out of 20 present values: exactly 95% → numeric.
    const at95 = [...Array.from({ length: 19 }, (_, i) => String(i)), 'abc'];
    // 18 numbers + 2 words out of 20: 90% → categorical.
    const at90 = [...Array.from({ length: 18 }, (_, i) => String(i)), 'abc', 'def'];
    const schema = inferSchema(raw({ a: at95, b: at90 }));
    expect(schema.columns[0].type).toBe('numeric');
    expect(schema.columns[1].type).toBe('categorical');
  });

  it('ignores missing values when computing the numeric share', () => {
    // 19 numbers, 1 word, 10 missing: share over present values is 19/20 = 95% → numeric.
    const values = [...Array.from({ length: 19 }, (_, i) => String(i)), 'abc', ...Array(10).fill('NA')];
    const [col] = inferSchema(raw({ a: values })).columns;
    expect(col).toEqual({ name: 'a', type: 'numeric', nullable: true });
  });

  it('just below 95% is categorical (37 numbers of 39 present ≈ 94.9%)', () => {
    const values = [...Array.from({ length: 37 }, (_, i) => String(i)), 'x', 'y'];
    expect(inferSchema(raw({ a: values })).columns[0].type).toBe('categorical');
  });

  it('marks a column nullable exactly when it has a missing value', () => {
    const schema = inferSchema(raw({ full: ['1', '2', '3'], holey: ['1', '', '3'], wordy: ['a', 'n/a', 'b'] }));
    expect(schema.columns.map((c) => c.nullable)).toEqual([false, true, true]);
  });

  it('types an all-missing column as categorical and nullable', () => {
    expect(inferSchema(raw({ a: ['', 'NA', 'null'] })).columns[0]).toEqual({ name: 'a', type: 'categorical', nullable: true });
  });

  it('types a column with no rows as categorical and not nullable', () => {
    expect(inferSchema({ header: ['a'], columns: [[]], rowCount: 0 }).columns[0]).toEqual({
      name: 'a',
      type: 'categorical',
      nullable: false,
    });
  });

  it('does not count "12k"-style values as numbers', () => {
    expect(inferSchema(raw({ a: ['12k', '13k', '14k'] })).columns[0].type).toBe('categorical');
  });
});

describe('columnIndex', () => {
  it('finds a column by exact name and returns -1 when absent', () => {
    const r = raw({ a: ['1'], b: ['2'] });
    expect(columnIndex(r, 'b')).toBe(1);
    expect(columnIndex(r, 'B')).toBe(-1);
    expect(columnIndex(r, 'c')).toBe(-1);
  });
});

describe('toTable', () => {
  const r = raw({
    km: ['10', ' 20 ', '', 'oops'],
    fuel: [' diesel ', 'NA', 'petrol', 'diesel'],
    other: ['x', 'y', 'z', 'w'],
  });
  const schema = {
    columns: [
      { name: 'km', type: 'numeric' as const, nullable: true },
      { name: 'fuel', type: 'categorical' as const, nullable: true },
      { name: 'other', type: 'categorical' as const, nullable: false },
    ],
  };

  it('converts numeric columns to Float64Array with NaN for missing and non-numbers', () => {
    const table = toTable(r, schema, ['km']);
    const km = table.columns.km;
    expect(km.kind).toBe('numeric');
    if (km.kind !== 'numeric') throw new Error('unreachable');
    expect(km.values).toBeInstanceOf(Float64Array);
    expect(km.values[0]).toBe(10);
    expect(km.values[1]).toBe(20);
    expect(Number.isNaN(km.values[2])).toBe(true);
    expect(Number.isNaN(km.values[3])).toBe(true);
  });

  it('converts categorical columns to trimmed strings with null for missing', () => {
    const table = toTable(r, schema, ['fuel']);
    expect(table.columns.fuel).toEqual({ kind: 'categorical', values: ['diesel', null, 'petrol', 'diesel'] });
  });

  it('keeps only the named columns and the row count', () => {
    const table = toTable(r, schema, ['fuel', 'km']);
    expect(Object.keys(table.columns).sort()).toEqual(['fuel', 'km']);
    expect(table.rowCount).toBe(4);
  });

  it('throws naming a column absent from the file', () => {
    expect(() => toTable(r, schema, ['price'])).toThrow('column "price" is not in the dataset');
  });

  it('throws naming a column absent from the schema', () => {
    expect(() => toTable(r, { columns: schema.columns.slice(0, 1) }, ['fuel'])).toThrow('"fuel"');
  });

  it('follows the schema type, not the values (numbers in a categorical column stay strings)', () => {
    const t = toTable(raw({ code: ['1', '2'] }), { columns: [{ name: 'code', type: 'categorical', nullable: false }] }, ['code']);
    expect(t.columns.code).toEqual({ kind: 'categorical', values: ['1', '2'] });
  });
});
