import type { FastifyInstance } from 'fastify';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    /** The JSON body's text as received (null without one): the prediction log keeps rows as sent. */
    jsonText: string | null;
  }
}

/**
 * The API's JSON body parser. fastify's default one answers every refusal with "Body is not valid
 * JSON", including a `__proto__` key (its prototype-poisoning guard), which leaves the client guessing.
 * This one says what is wrong and where. `JSON.parse` itself creates `__proto__` as a plain own key,
 * so parsing first and then looking for the key is safe.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  app.decorateRequest('jsonText', null);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    let value: unknown;
    try {
      value = parseJsonBody(body as string);
    } catch (err) {
      return done(err as Error, undefined);
    }
    request.jsonText = body as string;
    done(null, value);
  });
  // A POST without a body means "no options": validate it as `{}`, so a route whose fields are all
  // optional works with a bare POST and a route with required fields names them.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body == null && request.routeOptions.schema?.body) request.body = {};
    done();
  });
}

/** Text a forbidden key needs (spelt out, or escaped); one pass over the body instead of one per word. */
const MAYBE_FORBIDDEN = /__proto__|constructor|\\u/;

export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined; // no body: the route's schema decides (see installJsonBodyParser)
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`);
  }
  // Such a key is spelt out in the text, or written with \u escapes: without either, nothing to walk
  // (a text search is far cheaper than walking every key of a 100-row body). The walk that names the
  // path builds a string per key: run it only when the cheap walk found one.
  const forbidden = MAYBE_FORBIDDEN.test(text) && hasForbiddenKey(value) ? findForbiddenKey(value, '') : null;
  if (forbidden) throw new HttpError(400, `${forbidden}: keys named "__proto__" (or constructor.prototype) are not accepted`);
  return value;
}

/** Whether any key could poison an object's prototype when merged (what findForbiddenKey names). */
function hasForbiddenKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (hasForbiddenKey(value[i])) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return true;
    if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return true;
    if (child !== null && typeof child === 'object' && hasForbiddenKey(child)) return true;
  }
  return false;
}

/** Path of the first key that could poison an object's prototype when merged, e.g. `rows[0].__proto__`. */
function findForbiddenKey(value: unknown, path: string): string | null {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findForbiddenKey(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  for (const key of Object.keys(value)) {
    const at = path ? `${path}.${key}` : key;
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__') return at;
    if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return `${at}.prototype`;
    const found = findForbiddenKey(child, at);
    if (found) return found;
  }
  return null;
}
