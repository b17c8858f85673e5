import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BUCKET_NAME, parseS3Location, type S3Settings } from './data/s3';
import type { SourcePolicy } from './data/source';
import { parseWebhooks, type NotificationSettings } from './notifications/endpoints';
import { Duration, formatZodError } from './schemas/lifecycle';

/**
 * Configuration comes from environment variables only, validated once at start-up.
 * Unset service addresses mean "run the embedded default" (dev server, embedded PostgreSQL, local files).
 */
const port = z.coerce.number().int().min(0).max(65535);
/** true/false, 1/0, yes/no, on/off. */
const flag = z.stringbool({ error: 'must be true or false' });
/** `s3://bucket` or `s3://bucket/prefix`. */
const s3Location = z.string().refine((value) => {
  try {
    return /^s3:\/\//.test(value) && Boolean(parseS3Location(value));
  } catch {
    return false;
  }
}, 'must be an s3://bucket/prefix URI (unset: DATA_DIR/artifacts on the local disk)');

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
  /**
   * Memory DuckDB may use per dataset task (converting, profiling, loading columns) before it spills to
   * DATA_DIR/scratch; one task per running data activity.
   */
  DATA_MEMORY_LIMIT: z.string().regex(/^\d+(\.\d+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/, 'must be a size such as "256MB" or "1GiB"').default('192MB'),
  /** The API's address as people reach it (behind a proxy, say): report links in runs' status point there. Default http://API_HOST:API_PORT. */
  PUBLIC_API_URL: z.string().url().optional(),
  /** How long the report links in a run's status and memo open the report. */
  REPORT_LINK_TTL: Duration.default('30d'),
  /** Comma-separated directories datasets may be read from; default: the working directory and DATA_DIR/datasets. */
  INGEST_ROOTS: z.string().optional(),
  /** Where artifacts (datasets, models, reports) live: unset, DATA_DIR/artifacts; `s3://bucket/prefix`, S3. */
  ARTIFACT_STORE: s3Location.optional(),
  /** An S3-compatible server (MinIO, …); unset: AWS S3. */
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().regex(/^[a-z0-9-]+$/, 'must be a region name such as us-east-1').default('us-east-1'),
  /** Both unset: the AWS SDK's default credential chain (AWS_* variables, profiles, instance roles). */
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  /** Bucket in the URL path instead of the host name: true for MinIO. */
  S3_FORCE_PATH_STYLE: flag.default(false),
  /** Unsigned requests (public buckets); no credentials are used. */
  S3_ANONYMOUS: flag.default(false),
  /** Comma-separated buckets s3:// datasets may be read from; unset: any bucket the credentials can read. */
  INGEST_S3_BUCKETS: z.string().optional(),
  /**
   * Prediction log (src/serving/predictionLog.ts): rows held in memory at most while PostgreSQL is slow or
   * down (beyond it the newest are dropped and counted, serving never waits), how often they are written,
   * and how many rows one INSERT writes at most (reaching it also starts a write at once).
   */
  PREDICTION_LOG_BUFFER: z.coerce.number().int().min(1).max(10_000_000).default(50_000),
  PREDICTION_LOG_FLUSH_INTERVAL: Duration.default('200ms'),
  PREDICTION_LOG_BATCH: z.coerce.number().int().min(1).max(100_000).default(5_000),
  /**
   * Prediction log and feedback rows older than this are deleted, in small batches, by one API process
   * at a time (src/serving/retention.ts); `off` keeps them forever.
   */
  PREDICTION_LOG_RETENTION: z.string().refine((v) => v === 'off' || Duration.safeParse(v).success, 'must be a duration like "30d" (1ms to 366d), or "off"').default('30d'),
  /**
   * Webhooks that receive notifications (src/notifications): a JSON array of {"name"?, "url", "secret",
   * "events"?, "timeout"?}. NOTIFY_WEBHOOKS_FILE names a file holding the same JSON instead, so that the
   * secrets can come from a mounted secret rather than the environment (which `docker inspect` and
   * /proc/<pid>/environ show). Neither set: events are logged only.
   */
  NOTIFY_WEBHOOKS: z.string().optional(),
  NOTIFY_WEBHOOKS_FILE: z.string().optional(),
  /** Let webhooks reach link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, …): refused by default against SSRF. */
  NOTIFY_ALLOW_LINK_LOCAL: flag.default(false),
  /** The schedules file (YAML or JSON) that `lifecycle schedules apply` and `POST /schedules/apply` apply: see src/schedules/file.ts. */
  SCHEDULES_FILE: z.string().default('lifecycle.schedules.yaml'),
  /** Apply SCHEDULES_FILE when a worker starts (it must exist and be valid, or the start fails). */
  SCHEDULES_APPLY_ON_START: flag.default(false),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['auto', 'json', 'pretty']).default('auto'),
});
export type ArtifactStoreConfig = { kind: 'local'; dir: string } | { kind: 's3'; bucket: string; prefix: string };
export type Config = z.infer<typeof ConfigSchema> & {
  dataDir: string;
  /** The local store's directory (DATA_DIR/artifacts), also when ARTIFACT_STORE names S3. */
  artifactDir: string;
  artifactStore: ArtifactStoreConfig;
  s3: S3Settings;
  ingest: SourcePolicy;
  notifications: NotificationSettings;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (API_PORT=) means unset, as in most shells' and compose files' conventions.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = ConfigSchema.safeParse(set);
  if (!parsed.success) throw new Error(`Invalid configuration: ${formatZodError(parsed.error)}`);
  const dataDir = path.resolve(parsed.data.DATA_DIR);
  const ingestRoots = parsed.data.INGEST_ROOTS
    ? parsed.data.INGEST_ROOTS.split(',').map((d) => d.trim()).filter(Boolean).map((d) => path.resolve(d))
    : [process.cwd(), path.join(dataDir, 'datasets')];
  const c = parsed.data;
  const s3Buckets = c.INGEST_S3_BUCKETS ? c.INGEST_S3_BUCKETS.split(',').map((b) => b.trim()).filter(Boolean) : null;
  const badBuckets = (s3Buckets ?? []).filter((b) => !BUCKET_NAME.test(b));
  const problems = [
    badBuckets.length > 0 && `INGEST_S3_BUCKETS: not bucket names: ${badBuckets.map((b) => JSON.stringify(b.slice(0, 70))).join(', ')}`,
    Boolean(c.S3_ACCESS_KEY_ID) !== Boolean(c.S3_SECRET_ACCESS_KEY) && 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both or neither',
    c.S3_ANONYMOUS && c.S3_ACCESS_KEY_ID && 'S3_ANONYMOUS: unsigned requests use no credentials; unset S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or S3_ANONYMOUS',
    c.S3_ANONYMOUS && c.ARTIFACT_STORE && 'S3_ANONYMOUS: the artifact store (ARTIFACT_STORE) needs credentials that may write',
  ].filter(Boolean);
  let webhooks: NotificationSettings['webhooks'] = [];
  try {
    webhooks = loadWebhooks(c);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) throw new Error(`Invalid configuration: ${problems.join('; ')}`);
  const s3: S3Settings = {
    endpoint: c.S3_ENDPOINT ?? null,
    region: c.S3_REGION,
    accessKeyId: c.S3_ACCESS_KEY_ID ?? null,
    secretAccessKey: c.S3_SECRET_ACCESS_KEY ?? null,
    forcePathStyle: c.S3_FORCE_PATH_STYLE,
    anonymous: c.S3_ANONYMOUS,
  };
  const artifactDir = path.join(dataDir, 'artifacts');
  const artifactStore: ArtifactStoreConfig = c.ARTIFACT_STORE ? { kind: 's3', ...parseS3Location(c.ARTIFACT_STORE) } : { kind: 'local', dir: artifactDir };
  return {
    ...c,
    dataDir,
    artifactDir,
    artifactStore,
    s3,
    notifications: { webhooks, allowLinkLocal: c.NOTIFY_ALLOW_LINK_LOCAL },
    // DATA_DIR holds secrets, the database and artifacts: never ingestible, whatever the roots say; nor is an S3 artifact store.
    ingest: {
      roots: ingestRoots,
      protectedDirs: [dataDir],
      s3,
      s3Buckets,
      protectedS3: artifactStore.kind === 's3' ? [{ bucket: artifactStore.bucket, prefix: artifactStore.prefix }] : [],
    },
  };
}

/** The webhook endpoints of NOTIFY_WEBHOOKS or NOTIFY_WEBHOOKS_FILE (read once, at start-up). */
function loadWebhooks(c: z.infer<typeof ConfigSchema>): NotificationSettings['webhooks'] {
  if (c.NOTIFY_WEBHOOKS && c.NOTIFY_WEBHOOKS_FILE) throw new Error('NOTIFY_WEBHOOKS and NOTIFY_WEBHOOKS_FILE: set one, not both');
  if (c.NOTIFY_WEBHOOKS) return parseWebhooks(c.NOTIFY_WEBHOOKS, 'NOTIFY_WEBHOOKS');
  if (!c.NOTIFY_WEBHOOKS_FILE) return [];
  let text: string;
  try {
    text = readFileSync(c.NOTIFY_WEBHOOKS_FILE, 'utf8');
  } catch (err) {
    throw new Error(`NOTIFY_WEBHOOKS_FILE: cannot read ${c.NOTIFY_WEBHOOKS_FILE}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseWebhooks(text, 'NOTIFY_WEBHOOKS_FILE');
}
