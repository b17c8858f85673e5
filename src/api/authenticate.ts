import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
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

  // Fail closed at start-up: a route that forgot to say who may call it would otherwise be open.
  app.addHook('onRoute', (route) => {
    if (!route.config?.access) throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.is404) return; // no route: the not-found handler answers 404/405
    const access = request.routeOptions.config.access;
    if (access === 'public') return;
    const authorization = request.headers.authorization;
    const who = options.authenticator.authenticate(authorization);
    if (!who) {
      if (authorization) await countFailure.call(app, request, reply); // throws the 429 once over the limit
      throw new HttpError(401, authorization ? 'unknown bearer token' : 'missing bearer token (Authorization: Bearer <token>)');
    }
    if (!access || !can(who, access)) throw new HttpError(403, `role "${who.role}" of "${who.identity}" may not ${access ?? 'call this route'}`);
    request.caller = who;
  });
}

/** The authenticated caller of a route that is not public. */
export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new Error('no authenticated caller: the route must declare config.access');
  return request.caller;
}
