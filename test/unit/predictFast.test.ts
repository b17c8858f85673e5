import { describe, expect, it } from 'vitest';
import { isPredictBody } from '../../src/api/predictFast';
import { MAX_PREDICT_ROWS, PredictBody } from '../../src/api/schemas';

const row = { make: 'BMW', year: 2020, mileage_km: null };
const cases: unknown[] = [
  { rows: [row] },
  { rows: [row, row] },
  { rows: [{}] },
  { rows: [] },
  { rows: Array.from({ length: MAX_PREDICT_ROWS }, () => row) },
  { rows: Array.from({ length: MAX_PREDICT_ROWS + 1 }, () => row) },
  { rows: [row], extra: 1 },
  {},
  null,
  [],
  'rows',
  { rows: {} },
  { rows: [null] },
  { rows: [[1]] },
  { rows: ['x'] },
  { rows: [{ a: true }] },
  { rows: [{ a: [1] }] },
  { rows: [{ a: { b: 1 } }] },
  { rows: [{ a: Number.POSITIVE_INFINITY }] },
  { rows: [{ a: Number.NaN }] },
  { rows: [{ a: -0, b: 1e308, c: '' }] },
  { rows: [row, { a: undefined }] },
  JSON.parse('{"rows":[{"__proto__":1}]}'),
];

describe('the predict body fast check', () => {
  it('accepts only what PredictBody accepts (anything else goes to zod for its message), and every ordinary valid body', () => {
    for (const body of cases) {
      // A "__proto__" key never gets here (the body parser refuses it); the fast check leaves it to zod.
      const expected = PredictBody.safeParse(body).success && !JSON.stringify(body)?.includes('__proto__');
      expect([body, isPredictBody(body)]).toEqual([body, expected]);
    }
  });
});
