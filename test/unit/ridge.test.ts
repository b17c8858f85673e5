import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_RIDGE_PARAMS,
  encodedWidth,
  fitRidge,
  meanBaseline,
  predictLinear,
  type FeatureEncoding,
  type RidgeParams,
} from '../../src/domain/ridge';
import type { Column, Table } from '../../src/domain/table';

// Reference fits produced by scikit-learn (test/fixtures/ridge-reference.py).
interface Fixture {
  numericColumns: string[];
  target: string;
  train: Record<string, (number | string | null)[]>;
  test: Record<string, (number | string | null)[]>;
  cases: {
    name: string;
    features: string[];
    params: Partial<RidgeParams>;
    expected: {
      encodings: FeatureEncoding[];
      weights: number[];
      intercept: number;
      trainPredictions: number[];
      testPredictions: number[];
    };
  }[];
}
const fixture: Fixture = JSON.parse(readFileSync(new URL('../fixtures/ridge-reference.json', import.meta.url), 'utf8'));

function toTable(data: Record<string, (number | string | null)[]>, numeric: string[]): Table {
  const columns: Record<string, Column> = {};
  let rowCount = 0;
  for (const [name, values] of Object.entries(data)) {
    rowCount = values.length;
    columns[name] = numeric.includes(name) || name === fixture.target
      ? { kind: 'numeric', values: Float64Array.from(values, (v) => (v === null ? NaN : (v as number))) }
      : { kind: 'categorical', values: values as (string | null)[] };
  }
  return { rowCount, columns };
}

/** |actual - expected| <= 1e-8 * max(1, |expected|), element-wise. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const tol = 1e-8 * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (tol ${tol})`);
    }
  }
}

const train = toTable(fixture.train, fixture.numericColumns);
const test = toTable(fixture.test, fixture.numericColumns);

describe('fitRidge against scikit-learn', () => {
  it('fixture has the expected shape', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(4);
    expect(train.rowCount).toBe(60);
  });

  for (const c of fixture.cases) {
    it(`matches sklearn Ridge: ${c.name}`, () => {
      const model = fitRidge(train, c.features, fixture.target, c.params);
      // Encodings: categories exactly, mean/std to tolerance.
      expect(model.features.map((f) => [f.name, f.kind])).toEqual(c.expected.encodings.map((f) => [f.name, f.kind]));
      model.features.forEach((f, i) => {
        const e = c.expected.encodings[i];
        if (f.kind === 'categorical' && e.kind === 'categorical') expect(f.categories).toEqual(e.categories);
        if (f.kind === 'numeric' && e.kind === 'numeric') expectClose([f.mean, f.std], [e.mean, e.std], `${c.name} ${f.name} mean/std`);
      });
      expect(encodedWidth(model)).toBe(c.expected.weights.length);
      expectClose(model.weights, c.expected.weights, `${c.name} weights`);
      expectClose([model.intercept], [c.expected.intercept], `${c.name} intercept`);
      expectClose(predictLinear(model, train), c.expected.trainPredictions, `${c.name} train predictions`);
      // Test rows contain NaN numerics, null/'' and unseen categories.
      expectClose(predictLinear(model, test), c.expected.testPredictions, `${c.name} test predictions`);
    });
  }
});

describe('ridge preprocessing', () => {
  // y = 2 * x + (b ? 10 : 0); x has a missing value, c an unseen value at prediction time.
  const small: Table = {
    rowCount: 6,
    columns: {
      x: { kind: 'numeric', values: Float64Array.from([1, 2, 3, NaN, 5, 7]) },
      c: { kind: 'categorical', values: ['a', 'b', 'a', 'b', null, 'a'] },
      y: { kind: 'numeric', values: Float64Array.from([2, 14, 6, 18, 10, 14]) },
    },
  };

  it('fits numeric mean/std over non-missing values and imputes missing as the mean', () => {
    const model = fitRidge(small, ['x', 'c'], 'y');
    const x = model.features[0];
    expect(x.kind).toBe('numeric');
    if (x.kind !== 'numeric') return;
    expect(x.mean).toBeCloseTo(3.6, 12); // (1+2+3+5+7)/5
    expect(x.std).toBeCloseTo(Math.sqrt((2.6 ** 2 + 1.6 ** 2 + 0.6 ** 2 + 1.4 ** 2 + 3.4 ** 2) / 5), 12);
    const query: Table = {
      rowCount: 2,
      columns: {
        x: { kind: 'numeric', values: Float64Array.from([NaN, 3.6]) },
        c: { kind: 'categorical', values: ['a', 'a'] },
      },
    };
    const [missing, atMean] = predictLinear(model, query);
    expect(missing).toBeCloseTo(atMean, 12);
  });

  it('encodes unknown and missing categories as all zeros', () => {
    const model = fitRidge(small, ['x', 'c'], 'y');
    expect(model.features[1]).toEqual({ name: 'c', kind: 'categorical', categories: ['a', 'b'] });
    const [wx, wa, wb] = model.weights;
    expect(model.weights).toHaveLength(3);
    const query: Table = {
      rowCount: 5,
      columns: {
        x: { kind: 'numeric', values: Float64Array.from([3.6, 3.6, 3.6, 3.6, 3.6]) },
        c: { kind: 'categorical', values: ['a', 'b', 'never-seen', null, ''] },
      },
    };
    const p = predictLinear(model, query);
    expect(wx).toBeGreaterThan(0);
    expect(p[0]).toBeCloseTo(model.intercept + wa, 12);
    expect(p[1]).toBeCloseTo(model.intercept + wb, 12);
    for (const i of [2, 3, 4]) expect(p[i]).toBeCloseTo(model.intercept, 12);
  });

  it('with a tiny alpha recovers an exact linear relationship', () => {
    const n = 40;
    const x1 = Float64Array.from({ length: n }, (_, i) => (i * 7) % 13);
    const x2 = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
    const c = Array.from({ length: n }, (_, i) => ['p', 'q', 'r'][i % 3]);
    const y = Float64Array.from({ length: n }, (_, i) => 1.5 + 2 * x1[i] - 3 * x2[i] + (c[i] === 'q' ? 4 : 0));
    const table: Table = {
      rowCount: n,
      columns: { x1: { kind: 'numeric', values: x1 }, x2: { kind: 'numeric', values: x2 }, c: { kind: 'categorical', values: c }, y: { kind: 'numeric', values: y } },
    };
    const model = fitRidge(table, ['x1', 'x2', 'c'], 'y', { alpha: 1e-9 });
    const pred = predictLinear(model, table);
    for (let i = 0; i < n; i++) expect(pred[i]).toBeCloseTo(y[i], 6);
    const enc = model.features[0];
    if (enc.kind !== 'numeric') throw new Error('x1 should be numeric');
    expect(model.weights[0] / enc.std).toBeCloseTo(2, 6); // raw-scale slope
  });

  it('treats a constant numeric column as std 1 and keeps category order deterministic', () => {
    const table: Table = {
      rowCount: 4,
      columns: {
        k: { kind: 'numeric', values: Float64Array.from([5, 5, 5, 5]) },
        c: { kind: 'categorical', values: ['z', 'y', 'z', 'y'] },
        y: { kind: 'numeric', values: Float64Array.from([1, 2, 3, 4]) },
      },
    };
    const model = fitRidge(table, ['k', 'c'], 'y');
    expect(model.features[0]).toEqual({ name: 'k', kind: 'numeric', mean: 5, std: 1 });
    expect(model.features[1]).toEqual({ name: 'c', kind: 'categorical', categories: ['y', 'z'] });
    expect(model.weights[0]).toBe(0);
  });

  it('rejects NaN/Inf targets, missing columns and kind mismatches with clear errors', () => {
    const bad: Table = { ...small, columns: { ...small.columns, y: { kind: 'numeric', values: Float64Array.from([1, 2, NaN, 4, 5, 6]) } } };
    expect(() => fitRidge(bad, ['x'], 'y')).toThrow(/target column "y".*row 2/);
    const inf: Table = { ...small, columns: { ...small.columns, y: { kind: 'numeric', values: Float64Array.from([1, 2, 3, Infinity, 5, 6]) } } };
    expect(() => meanBaseline(inf, ['x'], 'y')).toThrow(/target column "y"/);
    expect(() => fitRidge(small, ['x', 'nope'], 'y')).toThrow(/"nope" is missing/);
    expect(() => fitRidge(small, ['x'], 'missing_target')).toThrow(/"missing_target" is missing/);
    expect(() => fitRidge(small, ['x', 'y'], 'y')).toThrow(/must not also be a feature/);
    expect(() => fitRidge(small, ['x'], 'y', { alpha: -1 })).toThrow(/alpha/);
    const model = fitRidge(small, ['x', 'c'], 'y');
    const swapped: Table = { rowCount: 1, columns: { x: { kind: 'categorical', values: ['1'] }, c: { kind: 'categorical', values: ['a'] } } };
    expect(() => predictLinear(model, swapped)).toThrow(/"x" is categorical but the model expects numeric/);
  });

  it('exposes the documented defaults', () => {
    expect(DEFAULT_RIDGE_PARAMS).toEqual({ alpha: 1, maxCategories: 50, minCategoryCount: 1 });
  });
});

describe('meanBaseline', () => {
  it('predicts the training mean everywhere with the same encodings as ridge', () => {
    const table = train;
    const features = ['x1', 'c1', 'k'];
    const base = meanBaseline(table, features, 'y');
    const ridge = fitRidge(table, features, 'y');
    expect(base.features).toEqual(ridge.features);
    expect(base.weights).toEqual(new Array(encodedWidth(ridge)).fill(0));
    const y = fixture.train.y as number[];
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    expect(base.intercept).toBeCloseTo(mean, 10);
    for (const p of predictLinear(base, test)) expect(p).toBeCloseTo(mean, 10);
  });
});
