import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { MAX_PREDICT_ROWS } from './schemas';

/**
 * The predict route's fast path. Its zod schemas stay what the OpenAPI document is made from and what
 * produces every 400 message; but checking 100 rows of features through zod cost more than scoring them
 * (measured with `npm run bench -- serving`), so a valid body is recognised by hand first, by exactly the
 * rules of `PredictBody`: `{"rows": [...]}` and nothing else, 1 to MAX_PREDICT_ROWS rows, each an object
 * whose values are finite numbers, strings or null. Anything else goes through zod for its message.
 */
export function isPredictBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  for (const key in body) if (key !== 'rows') return false;
  const rows = (body as { rows?: unknown }).rows;
  if (!Array.isArray(rows) || rows.length < 1 || rows.length > MAX_PREDICT_ROWS) return false;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return false;
    for (const key in row) {
      if (key === '__proto__') return false;
      const v = row[key];
      if (v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) continue;
      return false;
    }
  }
  return true;
}

/**
 * Another key ending in `rows` after the first `"rows"` (a repeated key; or a row's key, which is harmless
 * but also refused). Searched from `rows"` rather than `"rows"`: a quote starts every key and string, and
 * searching from one was a tenth of a 100-row request's time (measured).
 */
const SECOND_ROWS_KEY = /rows"\s*:/g;

/**
 * The `rows` array of a predict body as the client wrote it, cut from the body's text instead of
 * serialising the parsed rows again (that was the prediction log's main cost on 100-row requests). The
 * body passed `isPredictBody`, so every key of its object is "rows"; when the text has no `\u` escape and
 * no second `"rows"` key, that key is written once, plainly, and the object is `{ "rows": [ ... ] }` with only
 * whitespace around: the array runs from the first `[` to the last `]`. Otherwise (a repeated or escaped
 * key, a row's key ending in `rows`; or no body text) undefined, and the caller serialises the rows.
 */
export function rowsJsonOf(bodyText: string | null): string | undefined {
  if (bodyText === null) return undefined;
  const key = bodyText.indexOf('"rows"');
  if (key < 0 || bodyText.includes('\\u')) return undefined;
  SECOND_ROWS_KEY.lastIndex = key + 6;
  if (SECOND_ROWS_KEY.test(bodyText)) return undefined;
  return bodyText.slice(bodyText.indexOf('['), bodyText.lastIndexOf(']') + 1);
}

/** zod for params and query (a few characters); the hand check above for a valid body, zod for an invalid one. */
export const predictValidatorCompiler: FastifySchemaCompiler<unknown> = (route) => {
  const zod = validatorCompiler(route as never) as ReturnType<FastifySchemaCompiler<unknown>>;
  if (route.httpPart !== 'body') return zod;
  return (data: unknown) => (isPredictBody(data) ? { value: data } : (zod as (d: unknown) => ReturnType<typeof zod>)(data));
};

/**
 * A 200 is built by the predictor, so it is written with JSON.stringify after a check of its few typed
 * fields instead of a zod pass over every prediction; errors keep the zod serializer, and so does a 200
 * that fails the check (a prediction that is not a finite number must never go out as null: zod refuses it).
 */
export const predictSerializerCompiler: FastifySerializerCompiler<unknown> = (route) => {
  const zod = serializerCompiler(route as never) as (data: unknown) => string;
  if (String(route.httpStatus) !== '200') return zod;
  return (data: unknown) => {
    const { model, version, predictions } = data as { model?: unknown; version?: unknown; predictions?: unknown };
    if (typeof model !== 'string' || typeof version !== 'number' || !Array.isArray(predictions)) return zod(data);
    for (let i = 0; i < predictions.length; i++) if (!Number.isFinite(predictions[i])) return zod(data);
    return JSON.stringify(data);
  };
};
