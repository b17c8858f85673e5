import path from 'node:path';
import { z } from 'zod';
import type { IngestPolicy } from './data/source';
import { Duration, formatZodError } from './schemas/lifecycle';

/**
 * Configuration comes from environment variables only, validated once at start-up.
 * Unset service addresses mean "run the embedded default" (dev server, embedded PostgreSQL, local files).
 */
const port = z.coerce.number().int().min(0).max(65535);

export const ConfigSchema = z.object({
  DATA_DIR: z.string().default('.data'),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('lifecycle'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  DATABASE_URL: z.string().url().optional(),
  POSTGRES_PORT: port.default(5433),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: port.default(3000),
  API_TOKENS: z.string().optional(),
  APPROVAL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Lifetime of the approval tokens the API issues, e.g. "1h", "15m". */
  APPROVAL_TOKEN_TTL: Duration.default('1h'),
  /** Wrong bearer tokens one client address may present per minute before the API answers 429. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(60),
  /**
   * Memory bounds of a worker: runs in flight beyond them wait in Temporal's queues, not in this process.
   * Cached workflows are evicted (and replayed when they wake); activity slots cap in-process work.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(1).max(100_000).default(200),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(1000).default(16),
  /** On shutdown (Ctrl-C), how long running activities may finish before they are cancelled: a training that ends in time is not redone. */
  WORKER_SHUTDOWN_GRACE: Duration.default('60s'),
  /** Worker threads for CPU-heavy activity work; default one per core but one. */
  COMPUTE_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  /** Comma-separated directories datasets may be read from; default: the working directory and DATA_DIR/datasets. */
  INGEST_ROOTS: z.string().optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});
export type Config = z.infer<typeof ConfigSchema> & { dataDir: string; artifactDir: string; ingest: IngestPolicy };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (API_PORT=) means unset, as in most shells' and compose files' conventions.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = ConfigSchema.safeParse(set);
  if (!parsed.success) throw new Error(`Invalid configuration: ${formatZodError(parsed.error)}`);
  const dataDir = path.resolve(parsed.data.DATA_DIR);
  const ingestRoots = parsed.data.INGEST_ROOTS
    ? parsed.data.INGEST_ROOTS.split(',').map((d) => d.trim()).filter(Boolean).map((d) => path.resolve(d))
    : [process.cwd(), path.join(dataDir, 'datasets')];
  // DATA_DIR holds secrets, the database and artifacts: never ingestible, whatever the roots say.
  return { ...parsed.data, dataDir, artifactDir: path.join(dataDir, 'artifacts'), ingest: { roots: ingestRoots, protectedDirs: [dataDir] } };
}
