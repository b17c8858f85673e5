import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { Authenticator, Caller } from '../auth/apiTokens';
import { can, type Permission } from './auth';
import { HttpError } from './errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route needs: a permission of the caller's role, or `public` (no token). Every route declares it. */
    access?: Permission | 'public';
  }
  interface FastifyRequest {
    caller?: Caller;
  }
}

export interface AuthenticationOptions {
  authenticator: Authenticator;
  /** Wrong bearer tokens one client address may present per minute before it gets 429s. */
  failuresPerMinute: number;
}

/**
 * Authentication runs in `onRequest`, before fastify reads and parses the body: an anonymous client
 * gets 401 (or 403 for the wrong role) without the server spending anything on its payload.
 *
 * Failed attempts are rate limited per client address; successful traffic is not counted. Only a token
 * that was presented and is wrong counts: a missing header guesses nothing and costs a string check.
 * A valid token still works from a limited address, so an attacker cannot lock out users behind the
 * same address; guessing is hopeless anyway (tokens are at least 16 random characters).
 */
export async function installAuthentication(app: FastifyInstance, options: AuthenticationOptions): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
  });
  const countFailure = app.rateLimit({
    max: options.failuresPerMinute,
    timeWindow: 60_000,
    errorResponseBuilder: (_request, context) => new HttpError(429, `too many failed authentication attempts from your address; retry in ${context.after}`),
  });

  /** Checks the caller of a route that needs `access`. A plain callback, not an async function: it runs on every request (the serving fast path too). */
  const authenticateFor = (access: Permission): onRequestHookHandler => (request, reply, done) => {
    const authorization = request.headers.authorization;
    const who = options.authenticator.authenticate(authorization);
    if (!who) {
      const refused = new HttpError(401, authorization ? 'unknown bearer token' : 'missing bearer token (Authorization: Bearer <token>)');
      if (!authorization) return done(refused);
      // Rejects with the 429 once over the limit.
      return void countFailure.call(app, request, reply).then(() => done(refused), (err: Error) => done(err));
    }
    if (!can(who, access)) return done(new HttpError(403, `role "${who.role}" of "${who.identity}" may not ${access}`));
    request.caller = who;
    done();
  };

  // Each route gets its check as it is declared, the first of its own onRequest hooks: no per-request
  // lookup of what the route needs. Fail closed at start-up: a route that forgot to say who may call it
  // would otherwise be open. (A request no route matches gets no check: the not-found handler answers 404/405.)
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (!access) throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
    if (access !== 'public') route.onRequest = [authenticateFor(access), ...[route.onRequest ?? []].flat()];
  });
}

/** The authenticated caller of a route that is not public. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('no authenticated caller: the route must declare config.access');
  return request.caller;
}
