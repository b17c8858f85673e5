import { spawn } from 'node:child_process';
import { constants as fsc } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pidAlive } from './net';
import { outputTail } from './outputTail';

/**
 * The Temporal CLI version we build from source. Later tags carry `replace` directives in their
 * go.mod, so `go install ...@vX` no longer works for them.
 */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type ResolvedTemporalCli =
  | { path: string; source: 'env' | 'path' | 'cache' | 'go-install' }
  | { path: null; source: 'sdk-download' };

const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';

export function lifecycleCacheDir(): string {
  return process.env.LIFECYCLE_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'lifecycle');
}

/** Where a `go install`-built CLI is cached, keyed by version so an upgrade never reuses a stale binary. */
export function temporalCliCachePath(): string {
  return path.join(lifecycleCacheDir(), `temporal-${TEMPORAL_CLI_VERSION}`, EXE);
}

export async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await fs.stat(p);
    if (!st.isFile()) return false;
    await fs.access(p, fsc.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function which(cmd: string): Promise<string | null> {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = path.join(dir, cmd + ext);
      if (await isExecutableFile(p)) return p;
    }
  }
  return null;
}

/**
 * The Temporal CLI that is already there ($TEMPORAL_CLI_PATH, `temporal` on PATH, our cache), without
 * building anything: for printing commands a user can paste (the demo, the `npm start` banner).
 */
export async function findTemporalCli(): Promise<{ path: string; source: 'env' | 'path' | 'cache' } | null> {
  return findBinary({ envVar: 'TEMPORAL_CLI_PATH', command: 'temporal', cachePath: temporalCliCachePath() });
}

/** A tool binary named by an environment variable, found on PATH, or in our cache, in that order; null if none. */
export async function findBinary(where: { envVar: string; command: string; cachePath: string }): Promise<{ path: string; source: 'env' | 'path' | 'cache' } | null> {
  const fromEnv = process.env[where.envVar];
  if (fromEnv) {
    // An explicit setting that is wrong is a mistake to report, not to silently route around.
    if (!(await isExecutableFile(fromEnv))) throw new Error(`${where.envVar}=${fromEnv} is not an executable file`);
    return { path: path.resolve(fromEnv), source: 'env' };
  }
  const onPath = await which(where.command);
  if (onPath) return { path: path.resolve(onPath), source: 'path' };
  if (await isExecutableFile(where.cachePath)) return { path: where.cachePath, source: 'cache' };
  return null;
}

/**
 * Find a Temporal CLI binary: $TEMPORAL_CLI_PATH, `temporal` on PATH, our versioned cache, or build it
 * with `go install` into the cache. Without Go we return the 'sdk-download' marker: the SDK can then
 * download the dev server itself (needs internet).
 */
export async function resolveTemporalCli(opts: { log?: (msg: string) => void } = {}): Promise<ResolvedTemporalCli> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));

  const found = await findTemporalCli();
  if (found) return found;

  const cached = temporalCliCachePath();
  const go = await which('go');
  if (go) {
    await goInstall({ go, pkg: `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`, target: cached, label: 'temporal CLI', log, envHint: 'TEMPORAL_CLI_PATH' });
    return { path: cached, source: 'go-install' };
  }
  return { path: null, source: 'sdk-download' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Take an exclusive lock file (O_EXCL create) holding our pid. A lock left by a dead process
 * (killed build) is removed. Returns false if someone else finished the binary while we waited.
 */
async function acquireLock(lockFile: string, target: string, label: string, log: (m: string) => void): Promise<boolean> {
  let announced = false;
  for (;;) {
    try {
      const fh = await fs.open(lockFile, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt(await fs.readFile(lockFile, 'utf8').catch(() => ''), 10);
    if (!Number.isFinite(holder) || !pidAlive(holder)) {
      // Holder died (or wrote nothing yet: give it a moment before calling it stale).
      if (!Number.isFinite(holder)) await sleep(500);
      const again = Number.parseInt(await fs.readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (!Number.isFinite(again) || !pidAlive(again)) await fs.rm(lockFile, { force: true });
      continue;
    }
    if (!announced) {
      log(`${label}: another process (pid ${holder}) is building it; waiting for it to finish...`);
      announced = true;
    }
    await sleep(2000);
    if (await isExecutableFile(target)) return false;
  }
}

/**
 * `go install <pkg>` into a private GOBIN, then the binary renamed to `target`: a killed build never
 * leaves half a binary there, and concurrent callers (npm start, the tests, provisioning) build once,
 * behind a lock file next to the target's directory.
 */
export async function goInstall(opts: { go: string; pkg: string; target: string; label: string; log: (m: string) => void; envHint: string }): Promise<void> {
  const { go, target, label, log } = opts;
  const exe = path.basename(target);
  const dir = path.dirname(target);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const lockFile = `${dir}.lock`;
  if (!(await acquireLock(lockFile, target, label, log))) return;
  // Build into a private GOBIN and rename at the end: a killed build never leaves a half binary
  // at the cached path (rename is atomic on the same filesystem).
  const tmpBin = `${dir}.tmp-${process.pid}`;
  try {
    if (await isExecutableFile(target)) return; // finished by another process just before we locked
    await fs.rm(tmpBin, { recursive: true, force: true });
    await fs.mkdir(tmpBin, { recursive: true });
    const started = Date.now();
    log(
      `${label} not found: building ${opts.pkg} with go install ` +
        `(minutes on a cold Go cache, once; cached at ${target}). ` +
        `Set ${opts.envHint} or put '${exe}' on PATH to skip this.`,
    );
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', opts.pkg], {
        env: { ...process.env, GOBIN: tmpBin },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const tail = outputTail(30);
      const onLine = (line: string) => {
        for (const kept of tail.add(line)) log(`go: ${kept.replace(/^go: /, '')}`);
      };
      readline.createInterface({ input: child.stdout! }).on('line', onLine);
      readline.createInterface({ input: child.stderr! }).on('line', onLine);
      // Compiling prints nothing for minutes; a heartbeat shows we are not stuck.
      const beat = setInterval(
        () => log(`${label}: still building (${Math.round((Date.now() - started) / 1000)}s)...`),
        60_000,
      );
      beat.unref();
      child.once('error', (e) => {
        clearInterval(beat);
        reject(e);
      });
      child.once('close', (code, signal) => {
        clearInterval(beat);
        if (code === 0) resolve();
        else reject(new Error(`go install failed (code ${code}, signal ${signal}):\n${tail.text()}`));
      });
    });
    await fs.mkdir(dir, { recursive: true });
    await fs.rename(path.join(tmpBin, exe), target);
    log(`${label} built in ${Math.round((Date.now() - started) / 1000)}s: ${target}`);
  } finally {
    await fs.rm(tmpBin, { recursive: true, force: true });
    await fs.rm(lockFile, { force: true });
  }
}
