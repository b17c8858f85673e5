/**
 * Local Temporal dev server (`temporal server start-dev`) for `npm start`, tests and demos.
 *
 * Design: when we have a CLI binary we spawn it ourselves; `TestWorkflowEnvironment.createLocal` is only
 * used for the 'sdk-download' fallback (no binary, no Go: the SDK downloads one; needs internet).
 * Checked with @temporalio/testing 1.24 + CLI 1.5.1, createLocal is unsuitable as the main path:
 *  - the server inherits our stdout/stderr (its banner and WARN logs land in our output; no way to
 *    send them to a file);
 *  - teardown kills the server outright (no "Stopping server...", no clean SQLite close);
 *  - readiness is "port accepts TCP": if the port is already taken by another server, createLocal
 *    happily connects to that one.
 * Spawning gives us: logs to a file (or nowhere), a graceful SIGINT stop, readiness that checks the
 * namespace and search attributes really exist, and a fast, clear error if the server dies at start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { canBind, commandLine, freePort, isPortInUse, pidAlive, stopChild, stopPid } from './net';
import { resolveTemporalCli } from './temporalCli';
import { spawnServer } from './serverProcess';

export const DEFAULT_TEMPORAL_PORT = 7233;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export interface DevServerOptions {
  /** SQLite file to persist to; in-memory when unset. */
  dbFile?: string;
  /** Default 127.0.0.1 (loopback only). */
  ip?: string;
  /** Frontend gRPC port; default 7233; 0 picks a free port. */
  port?: number;
  /** Web UI port; default port+1000; 0 picks a free port; false disables the UI. */
  uiPort?: number | false;
  /** Namespace created at start (the CLI always creates "default" too). Default "default". */
  namespace?: string;
  searchAttributes?: Record<string, SearchAttributeTypeName>;
  /** Server output (appended); discarded when unset. */
  logFile?: string;
  log?: (m: string) => void;
}

export interface DevServerHandle {
  address: string;
  uiUrl: string | null;
  namespace: string;
  /** The Temporal CLI binary running the server (null when the SDK downloaded one). */
  cliPath: string | null;
  /** Settles with a description once the server process has exited, for whatever reason (a supervisor watches it). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts the dev server. With ports picked here (0), a start that dies is tried again on fresh ports: the
 * server binds more ports than the ones we pick, and a busy machine may take one between our check and its bind.
 */
export async function startTemporalDevServer(opts: DevServerOptions = {}): Promise<DevServerHandle> {
  const picked = opts.port === 0 && (opts.uiPort === 0 || opts.uiPort === false);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (!picked || attempt === 3 || !/failed to start/.test((err as Error).message)) throw err;
      (opts.log ?? (() => {}))(`temporal: start failed (${(err as Error).message.split('\n')[0]}); trying again on other ports`);
    }
  }
}

async function startOnce(opts: DevServerOptions): Promise<DevServerHandle> {
  const log = opts.log ?? (() => {});
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const searchAttributes = opts.searchAttributes ?? {};
  // The CLI silently skips a bad name (then readiness would wait forever for it): check here.
  for (const name of Object.keys(searchAttributes)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid search attribute name ${JSON.stringify(name)}`);
  }

  const dbFile = opts.dbFile ? path.resolve(opts.dbFile) : undefined;
  // `${dbFile}.pid` holds "serverPid ownerPid": lets us stop a server orphaned by a run killed -9 (it
  // would hold the port and the SQLite file), and refuse to share the file with another live process.
  const pidFile = dbFile ? `${dbFile}.pid` : null;
  if (pidFile) await reclaimOrphan(pidFile, log);

  const port = opts.port === 0 ? await freePort(ip) : (opts.port ?? DEFAULT_TEMPORAL_PORT);
  const uiPort = opts.uiPort === false ? null : opts.uiPort === 0 ? await freePort(ip) : (opts.uiPort ?? port + 1000);
  // A taken port must fail here: the CLI would die (or, for the UI port, abort entirely) with a less
  // obvious error, and the SDK path would even connect to whatever server already listens there.
  for (const [what, p] of [['gRPC', port], ['Web UI', uiPort]] as const) {
    if (p !== null && !(await canBind(p, ip))) {
      throw new Error(
        `Temporal dev server ${what} port ${ip}:${p} is already in use (another Temporal server, or one ` +
          `left running by an earlier run?). Stop it or choose another port.`,
      );
    }
  }

  const host = ip.includes(':') ? `[${ip}]` : ip;
  const address = `${host}:${port}`;
  const uiHost = ip === '0.0.0.0' || ip === '::' ? 'localhost' : host;
  const uiUrl = uiPort === null ? null : `http://${uiHost}:${uiPort}`;
  const pragmas = dbFile ? ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'] : [];
  if (dbFile) fs.mkdirSync(path.dirname(dbFile), { recursive: true });

  const cli = await resolveTemporalCli({ log });
  const t0 = Date.now();
  if (cli.path === null) {
    return startWithSdkDownload({ dbFile, ip, port, uiPort, namespace, searchAttributes, pragmas, address, uiUrl, log });
  }

  const args = [
    'server', 'start-dev',
    '--ip', ip,
    '--port', String(port),
    '--namespace', namespace,
    '--log-level', 'warn',
    '--log-format', 'text',
    '--color', 'never',
    // No internet here, and no point phoning home for version checks from a dev server.
    '--dynamic-config-value', 'frontend.enableServerVersionCheck=false',
    ...(uiPort === null ? ['--headless'] : ['--ui-port', String(uiPort)]),
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...pragmas,
    ...Object.entries(searchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
  ];
  log(`temporal: starting ${cli.path} ${args.join(' ')}`);

  const logStream = opts.logFile ? openLog(opts.logFile) : null;
  const { child, exited, tail, release, firstProblem } = spawnServer(cli.path, args, { logStream, exitSignal: 'SIGTERM' });
  if (pidFile && child.pid) fs.writeFileSync(pidFile, `${child.pid} ${process.pid}\n`);

  const stop = once(async () => {
    release();
    await stopChild(child, exited, STOP_TIMEOUT_MS);
    if (pidFile) fs.rmSync(pidFile, { force: true });
    await new Promise<void>((r) => (logStream ? logStream.end(r) : r()));
  });

  try {
    await Promise.race([
      waitReady(address, namespace, Object.keys(searchAttributes)),
      exited.then((why) => Promise.reject(new Error(why))),
    ]);
  } catch (e) {
    await stop();
    throw new Error(
      `Temporal dev server failed to start on ${address}: ${(e as Error).message}${firstProblem() ? ` (${firstProblem()})` : ''}\n${tail.text()}`,
    );
  }
  log(`temporal: dev server ready on ${address}${uiUrl ? `, UI ${uiUrl}` : ''} in ${Date.now() - t0} ms`);
  return { address, uiUrl, namespace, cliPath: cli.path, exited, stop };
}

async function reclaimOrphan(pidFile: string, log: (m: string) => void): Promise<void> {
  const [serverPid, ownerPid] = (fs.existsSync(pidFile) ? fs.readFileSync(pidFile, 'utf8') : '')
    .trim()
    .split(/\s+/)
    .map(Number);
  if (!serverPid) return;
  if (!pidAlive(serverPid) || !commandLine(serverPid)?.includes('start-dev')) {
    fs.rmSync(pidFile, { force: true }); // stale: that server is gone
    return;
  }
  if (ownerPid && ownerPid !== process.pid && pidAlive(ownerPid)) {
    throw new Error(
      `A Temporal dev server (pid ${serverPid}) already runs on ${pidFile.replace(/\.pid$/, '')} for process ${ownerPid}`,
    );
  }
  log(`temporal: stopping dev server pid ${serverPid} orphaned by a killed run`);
  await stopPid(serverPid, STOP_TIMEOUT_MS);
  fs.rmSync(pidFile, { force: true });
}

function openLog(file: string): fs.WriteStream {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return fs.createWriteStream(file, { flags: 'a' });
}

function once(f: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= f());
}


/**
 * Ready = frontend answers, our namespace exists and our search attributes are registered
 * (the port opens before all of that is true).
 */
async function waitReady(address: string, namespace: string, attrs: string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  // Cheap TCP poll first: a gRPC connect attempt to a closed port backs off for ~1 s.
  const sep = address.lastIndexOf(':');
  const host = address.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(sep + 1));
  while (Date.now() < deadline && !(await isPortInUse(port, host))) await new Promise((r) => setTimeout(r, 25));
  while (Date.now() < deadline) {
    let conn: Connection | undefined;
    try {
      conn = await Connection.connect({ address, connectTimeout: 1000 });
      await conn.workflowService.getSystemInfo({});
      await conn.workflowService.describeNamespace({ namespace });
      if (attrs.length) {
        const r = await conn.operatorService.listSearchAttributes({ namespace });
        const missing = attrs.filter((a) => !(a in (r.customAttributes ?? {})));
        if (missing.length) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
      }
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await conn?.close().catch(() => {});
    }
  }
  throw new Error(`not ready after ${READY_TIMEOUT_MS / 1000}s: ${String(lastError)}`);
}

const SA_TYPES = {
  Keyword: 'KEYWORD',
  Text: 'TEXT',
  Int: 'INT',
  Double: 'DOUBLE',
  Bool: 'BOOL',
  Datetime: 'DATETIME',
  KeywordList: 'KEYWORD_LIST',
} as const;

/**
 * Fallback without a local binary: the SDK downloads the dev server (needs internet). Here the server's
 * output goes to our stdout/stderr and logFile is not honoured: createLocal gives no way to redirect it.
 */
async function startWithSdkDownload(o: {
  dbFile?: string;
  ip: string;
  port: number;
  uiPort: number | null;
  namespace: string;
  searchAttributes: Record<string, SearchAttributeTypeName>;
  pragmas: string[];
  address: string;
  uiUrl: string | null;
  log: (m: string) => void;
}): Promise<DevServerHandle> {
  o.log('temporal: no CLI binary and no Go toolchain: letting the Temporal SDK download the dev server (needs internet)');
  // Imported lazily: @temporalio/testing pulls in the native worker runtime.
  const [{ TestWorkflowEnvironment }, { defineSearchAttributeKey }] = await Promise.all([
    import('@temporalio/testing'),
    import('@temporalio/common'),
  ]);
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: o.ip,
      port: o.port,
      ui: o.uiPort !== null,
      ...(o.uiPort !== null ? { uiPort: o.uiPort } : {}),
      namespace: o.namespace,
      ...(o.dbFile ? { dbFilename: o.dbFile } : {}),
      searchAttributes: Object.entries(o.searchAttributes).map(([n, t]) => defineSearchAttributeKey(n, SA_TYPES[t])),
      extraArgs: o.pragmas,
    },
  }).catch((e: Error) => {
    throw new Error(
      `${e.message}\nNo Temporal CLI found. Install Go (we then build the CLI once, ~10 min) or the Temporal ` +
        `CLI itself, or set TEMPORAL_CLI_PATH to a 'temporal' binary.`,
    );
  });
  try {
    await waitReady(env.address, o.namespace, Object.keys(o.searchAttributes));
  } catch (e) {
    await env.teardown();
    throw e;
  }
  // createLocal does not tell us when its server dies: this one is not supervised.
  return { address: env.address, uiUrl: o.uiUrl, namespace: o.namespace, cliPath: null, exited: new Promise<string>(() => {}), stop: once(() => env.teardown()) };
}
