import { describe, expect, it } from 'vitest';
import { isPredictBody, rowsJsonOf } from '../../src/api/predictFast';
import { mulberry32 } from '../../src/domain/split';
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

describe('rowsJsonOf: the rows of a predict body as the client wrote them', () => {
  it('cuts the array out of the text, whitespace and number spelling kept', () => {
    const text = ' {\n  "rows" :\t[ {"make": "BMW", "price": 1.50, "note": "] [ } {"}, {"make":null} ]\r\n} ';
    expect(rowsJsonOf(text)).toBe('[ {"make": "BMW", "price": 1.50, "note": "] [ } {"}, {"make":null} ]');
  });

  it('gives nothing (the caller serialises) for a repeated or escaped key, "rows" inside a value, or no text', () => {
    for (const text of [
      '{"rows": [{"a": 1}], "rows": [{"a": 2}]}', // JSON.parse keeps the last: cutting would log the wrong rows
      '{"rows": [{"a": 1}], "\\u0072ows": [{"a": 2}]}',
      '{"\\u0072ows": [{"a": 1}]}',
      '{"rows": [{"a": 1}], \n "rows"\t: [{"a": 2}]}',
      '{"rows": [{"rows": 1}]}', // harmless, but refused with the rest
    ]) {
      expect(isPredictBody(JSON.parse(text)), text).toBe(true);
      expect(rowsJsonOf(text), text).toBeUndefined();
    }
    expect(rowsJsonOf(null)).toBeUndefined();
  });

  it('cuts when "rows" is only inside a string value', () => {
    const text = '{"rows": [{"a": "say \\"rows\\": 1", "b": "rows"}]}';
    expect(rowsJsonOf(text)).toBe('[{"a": "say \\"rows\\": 1", "b": "rows"}]');
    expect(JSON.parse(rowsJsonOf(text)!)).toEqual(JSON.parse(text).rows);
  });

  it('whenever it cuts, the cut text parses to exactly the rows JSON.parse gave (random bodies with hostile strings)', () => {
    const rand = mulberry32(7);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const strings = ['a', '[', ']', '{', '}', '"', '\\', 'rows', '"rows"', 'x"rows":[', '\u00e9', '\u2028', '🚗', ' ', ''];
    const ws = () => pick(['', ' ', '\n', '\t', '\r\n  ']);
    let cut = 0;
    for (let n = 0; n < 2_000; n++) {
      const rows = Array.from({ length: 1 + Math.floor(rand() * 4) }, () =>
        Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [pick(strings) + pick(strings), pick([1.5, -0, 1e21, null, pick(strings) + pick(strings)])])),
      );
      const key = pick(['"rows"', '"rows"', '"rows"', '"\\u0072ows"']);
      // Sometimes the key written twice: JSON.parse keeps the second value.
      const first = rand() < 0.3 ? `${ws()}${pick(['"rows"', '"\\u0072ows"'])}${ws()}:${ws()}${pick(['[]', '[{"a":1}]', '1', '"]"'])}${ws()},` : '';
      const text = `${ws()}{${first}${ws()}${key}${ws()}:${ws()}${JSON.stringify(rows, null, pick([0, 1, '\t']))}${ws()}}${ws()}`;
      const body = JSON.parse(text);
      if (!isPredictBody(body)) continue;
      const json = rowsJsonOf(text);
      if (json === undefined) continue;
      cut++;
      expect(JSON.parse(json)).toEqual(body.rows);
    }
    expect(cut).toBeGreaterThan(500);
  });
});
