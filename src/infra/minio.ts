/**
 * MinIO, the S3-compatible server the tests (and anyone trying ARTIFACT_STORE=s3://… locally) run on
 * loopback. Resolved like the Temporal CLI: $MINIO_BIN, `minio` on PATH, a cached build, or a one-time
 * `go install` of a pinned pseudo-version into that cache. Unlike the Temporal CLI there is no download
 * fallback: without Go or a binary, resolveMinio() fails, saying what to install.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, stopChild } from './net';
import { spawnServer } from './serverProcess';
import { findBinary, goInstall, lifecycleCacheDir, which } from './temporalCli';

/** MinIO has no Go-installable release tags; this is the commit `go install …@latest` gave on 2026-11-26. */
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';
export const MINIO_MODULE = 'github.com/minio/minio';

/** ~/.cache/lifecycle/minio-<version>/bin/minio, keyed by version so an upgrade never reuses a stale binary. */
export function minioCachePath(): string {
  return path.join(lifecycleCacheDir(), `minio-${MINIO_VERSION.replace(/^v/, '')}`, 'bin', 'minio');
}

export interface ResolvedMinio {
  path: string;
  source: 'env' | 'path' | 'cache' | 'go-install';
}

/** A MinIO binary that is already there, without building anything. */
export async function findMinio(): Promise<ResolvedMinio | null> {
  return findBinary({ envVar: 'MINIO_BIN', command: 'minio', cachePath: minioCachePath() });
}

/** Finds MinIO or builds it with `go install` (about 90 s with a warm Go module cache, ~6 min cold, once). */
export async function resolveMinio(opts: { log?: (msg: string) => void } = {}): Promise<ResolvedMinio> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const found = await findMinio();
  if (found) return found;
  const go = await which('go');
  if (!go) {
    throw new Error(
      `MinIO not found and Go is missing: install Go (then \`npm run provision\` builds ${MINIO_MODULE}@${MINIO_VERSION} into ${minioCachePath()}), ` +
        `or set MINIO_BIN to a minio server binary`,
    );
  }
  const target = minioCachePath();
  await goInstall({ go, pkg: `${MINIO_MODULE}@${MINIO_VERSION}`, target, label: 'MinIO', log, envHint: 'MINIO_BIN' });
  return { path: target, source: 'go-install' };
}

export interface MinioOptions {
  /** Where MinIO keeps its objects (created if missing). */
  dataDir: string;
  /** Default: resolveMinio(). */
  binary?: string;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default: a free port. */
  port?: number;
  /** Root credentials; default: random ones. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Server output (appended); discarded when unset. */
  logFile?: string;
}

export interface MinioHandle {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  pid: number;
  /** Settles with a description once the server has exited. */
  exited: Promise<string>;
  stop(): Promise<void>;
  /** SIGKILL, for fault tests; resolves once it has exited. */
  kill(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Starts `minio server` on loopback and resolves once it answers its readiness probe. */
export async function startMinio(opts: MinioOptions): Promise<MinioHandle> {
  const binary = opts.binary ?? (await resolveMinio()).path;
  const host = opts.host ?? '127.0.0.1';
  const accessKeyId = opts.accessKeyId ?? `minio-${randomBytes(6).toString('hex')}`;
  const secretAccessKey = opts.secretAccessKey ?? randomBytes(24).toString('base64url');
  fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  // A port taken between freePort() and MinIO's bind makes MinIO exit at once: try another one.
  let lastError: Error | null = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort(host));
    try {
      return await launch(binary, host, port, accessKeyId, secretAccessKey, opts);
    } catch (err) {
      lastError = err as Error;
      if (opts.port !== undefined || !/address already in use|bind/i.test(lastError.message)) break;
    }
  }
  throw lastError!;
}

async function launch(binary: string, host: string, port: number, accessKeyId: string, secretAccessKey: string, opts: MinioOptions): Promise<MinioHandle> {
  const endpoint = `http://${host}:${port}`;
  const logStream = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : null;
  // The web console is not needed: with the browser off MinIO opens no second port.
  const env = { ...process.env, MINIO_ROOT_USER: accessKeyId, MINIO_ROOT_PASSWORD: secretAccessKey, MINIO_BROWSER: 'off', MINIO_UPDATE: 'off' };
  const { child, exited, tail, release } = spawnServer(binary, ['server', opts.dataDir, '--address', `${host}:${port}`, '--quiet'], { env, logStream, exitSignal: 'SIGKILL' });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      release();
      await stopChild(child, exited, STOP_TIMEOUT_MS);
      await new Promise<void>((r) => (logStream ? logStream.end(r) : r()));
    })());
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };

  try {
    await Promise.race([waitReady(endpoint), exited.then((why) => Promise.reject(new Error(why)))]);
  } catch (err) {
    await stop();
    throw new Error(`MinIO failed to start on ${endpoint}: ${(err as Error).message}\n${tail.text()}`);
  }
  return { endpoint, accessKeyId, secretAccessKey, pid: child.pid!, exited, stop, kill };
}

/** MinIO's unauthenticated readiness probe answers 200 once it can serve requests. */
async function waitReady(endpoint: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const ok = await fetch(`${endpoint}/minio/health/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s`);
}
