import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import type { Logger } from '../logger';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** How long a query waits for a connection (a new one, or a free one from the pool) before failing. */
export const CONNECT_TIMEOUT_MS = 3_000;

/**
 * The registry's connection pool. Losing the database must never end the process:
 * - an idle pooled connection whose server goes away ("terminating connection due to unexpected
 *   postmaster exit", 57P01) makes the pool emit 'error', which with no listener would crash Node with
 *   the API, the worker and the embedded servers; we log it, the pool drops that client and connects
 *   anew on the next query;
 * - a query made while the database is down fails fast (refused, or after CONNECT_TIMEOUT_MS), as a
 *   retryable activity failure in the worker and a 503 naming postgres in the API (`postgresUnavailable`).
 */
export function createPool(connectionString: string, log?: Pick<Logger, 'warn'>): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, keepAlive: true });
  pool.on('error', (err: Error & { code?: string }) => {
    log?.warn({ component: 'postgres-pool', code: err.code, message: err.message }, 'an idle PostgreSQL connection failed; the pool reconnects on the next query');
  });
  // pg-pool listens for a client's errors only while it is idle: a connection lost while a client was
  // checked out (PostgreSQL terminating the prediction log's COPY, say) was an uncaught exception that
  // stopped the process. Its query in flight rejects with the same error, and the caller handles that.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Node socket errors and pg messages that mean "PostgreSQL cannot be reached right now". */
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs: 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now (starting up, shutting down). */
const SQLSTATES = new Set(['57P01', '57P02', '57P03']);
const MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection terminated unexpectedly|the database system is (starting up|shutting down|in recovery mode)/i;

/**
 * True when `err` (or an error it wraps) says the database is unreachable rather than that a query is
 * wrong: refused or reset connections, connection-class SQLSTATEs (08xxx), server shutdowns (57P0x),
 * pool connect timeouts. Such errors are temporary: retry later.
 */
export function postgresUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  const stack: unknown[] = [err];
  while (stack.length) {
    const e = stack.pop() as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const code = typeof e.code === 'string' ? e.code : '';
    if (NET_CODES.has(code) || SQLSTATES.has(code) || /^08/.test(code)) return true;
    if (typeof e.message === 'string' && MESSAGES.test(e.message)) return true;
    stack.push(e.cause);
    if (Array.isArray(e.errors)) stack.push(...e.errors); // AggregateError: one per address tried
  }
  return false;
}

/** Applies pending migrations; safe to call from several processes (node-pg-migrate takes an advisory lock). */
export async function migrate(connectionString: string, log: Logger): Promise<void> {
  const applied = await runner({
    databaseUrl: connectionString,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    logger: { debug: () => {}, info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
  });
  if (applied.length) log.info({ migrations: applied.map((m) => m.name) }, 'database migrated');
}
