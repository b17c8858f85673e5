import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * Ask the OS for a free TCP port on `host` (bind to port 0, read it back, close).
 * There is a small race until the caller binds it; fine for tests and local dev.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True if something accepts TCP connections on host:port (used to detect a busy port). */
export function isPortInUse(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (inUse: boolean) => {
      sock.destroy();
      resolve(inUse);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/** True if we can bind host:port right now (a stricter check than isPortInUse). */
export function canBind(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

// Local process helpers, used to recognise servers left behind by a run that was killed -9.

/**
 * Whether `pid` is a running process. A zombie (exited, not yet reaped by its parent: e.g. the product
 * half a second after a `kill -9`, before npm or init collects it) is dead, though `kill(pid, 0)` still
 * succeeds on it: on Linux its /proc/<pid>/stat state is 'Z' (or 'X' while it is being reaped).
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const state = processState(pid);
  if (state === null) return true;
  if (state === 'X' || state === 'x') return false;
  // A zombie leader whose other threads still run (a Go server in the middle of exiting) still holds
  // its sockets and files: dead only once its thread group is empty.
  return state !== 'Z' || liveThreads(pid) > 0;
}

/** Threads of `pid` other than its leader that have not exited yet. */
function liveThreads(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/task`).filter((tid) => Number(tid) !== pid && !['Z', 'X', 'x', null].includes(threadState(pid, Number(tid)))).length;
  } catch {
    return 0;
  }
}

function threadState(pid: number, tid: number): string | null {
  try {
    return stateIn(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** "pid (comm) S ...": comm may hold spaces and parentheses, so the state is read after the last ')'. */
function stateIn(stat: string): string | null {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
}

/** The one-letter state of a process from /proc/<pid>/stat (R, S, D, Z, ...); null where /proc is not there. */
export function processState(pid: number): string | null {
  try {
    return stateIn(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch (e) {
    // Gone between kill(0) and the read: dead. No /proc at all (macOS): unknown.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && existsSync('/proc/self/stat') ? 'X' : null;
  }
}

/** Command line of a running process, or null if unknown (/proc on Linux, `ps` elsewhere). */
export function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    try {
      return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    } catch {
      return null;
    }
  }
}

/** Send SIGINT (graceful), wait up to timeoutMs, then SIGKILL. */
export async function stopPid(pid: number, timeoutMs = 15_000): Promise<void> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    process.kill(pid, 'SIGKILL');
    while (pidAlive(pid)) await sleep(50);
  }
  // Dead, possibly still a zombie until its parent (init, for an orphan) reaps it: not waited for.
}

/**
 * Stops a child we spawned: SIGINT (PostgreSQL's "fast" shutdown, the Temporal CLI's graceful stop),
 * then SIGKILL if it has not exited within `timeoutMs`. `exited` settles when the child exits.
 */
export async function stopChild(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}
