import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandLine, isPortInUse, pidAlive, stopPid } from '../../src/infra/net';
import { freeProductPorts, productEnv, type ProductPorts } from '../support/productProcess';

/**
 * The README's `npm start`, for real, stopped the way people and process managers stop it: a signal to
 * the `npm start` process (npm → node; npm forwards SIGINT/SIGTERM to its child, a `sh -c` in between
 * would not). Everything must be gone afterwards: the API port, the dev server and PostgreSQL.
 */
const root = path.resolve(import.meta.dirname, '../..');
const STOP_WITHIN_MS = 15_000;

describe('npm start stops on a signal to the npm process', () => {
  let dataDir: string;
  let ports: ProductPorts;
  const started: { pid: number; marker: string }[] = [];

  beforeAll(async () => {
    // mkdtemp is 0700: as root this also covers the data dir `postgres` cannot reach.
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-npm-start-'));
    ports = await freeProductPorts();
  });

  afterAll(async () => {
    // A failed test must not leave the product running: stop whatever is left, servers last.
    // Only our processes: a pid is checked against its command line, in case it was reused.
    for (const { pid, marker } of started) if (pidAlive(pid) && commandLine(pid)?.includes(marker)) await stopPid(pid, 10_000);
    if (!dataDir) return;
    // As root the cluster may live outside DATA_DIR (DATA_DIR/postgres is then a symlink to it).
    const cluster = await fs.realpath(path.join(dataDir, 'postgres')).catch(() => null);
    if (cluster && !cluster.startsWith(dataDir)) await fs.rm(path.dirname(cluster), { recursive: true, force: true });
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  async function startProduct(): Promise<{ npm: ChildProcess; pids: Record<string, number>; output: () => string }> {
    const npm = spawn('npm', ['start'], {
      cwd: root,
      env: productEnv(dataDir, ports),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    npm.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    npm.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 180 s:\n${out}`)), 180_000);
      npm.stdout!.on('data', () => {
        if (/Lifecycle is ready in[\s\S]*pid \d+/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      npm.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`npm start exited with ${code}:\n${out}`));
      });
    });
    const pids = {
      npm: npm.pid!,
      node: Number(/pid (\d+)/.exec(out)![1]),
      temporal: Number((await fs.readFile(path.join(dataDir, 'temporal.db.pid'), 'utf8')).split(/\s+/)[0]),
      postgres: Number((await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]),
    };
    started.push(
      { pid: pids.npm, marker: 'npm' },
      { pid: pids.node, marker: 'src/main.ts' },
      { pid: pids.temporal, marker: String(ports.temporal) },
      { pid: pids.postgres, marker: String(ports.postgres) },
    );
    for (const [what, pid] of Object.entries(pids)) expect(pidAlive(pid), `${what} pid ${pid} alive`).toBe(true);
    expect(await isPortInUse(ports.api)).toBe(true);
    return { npm, pids, output: () => out };
  }

  /** Waits until every process and port is gone; returns how long it took. */
  async function waitAllGone(pids: Record<string, number>, output: () => string): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const alive = Object.entries(pids).filter(([, pid]) => pidAlive(pid)).map(([what]) => what);
      const open = [];
      for (const [what, port] of Object.entries(ports)) if (await isPortInUse(port)) open.push(what);
      if (alive.length === 0 && open.length === 0) return Date.now() - t0;
      if (Date.now() - t0 > STOP_WITHIN_MS) {
        throw new Error(`still running after ${STOP_WITHIN_MS} ms: processes ${alive.join(', ')}; ports ${open.join(', ')}\n${output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to npm stops API, worker, dev server and PostgreSQL`, async () => {
      const { npm, pids, output } = await startProduct();
      npm.kill(signal);
      const ms = await waitAllGone(pids, output);
      console.log(`npm start: everything stopped ${ms} ms after ${signal}`);
      expect(output()).not.toMatch(/"level":(50|60)/); // no error logged while stopping
    }, 240_000);
  }

  it('SIGKILL to npm: the product notices its parent is gone and stops too', async () => {
    const { npm, pids, output } = await startProduct();
    npm.kill('SIGKILL');
    const ms = await waitAllGone(pids, output);
    console.log(`npm start: everything stopped ${ms} ms after npm was killed -9`);
  }, 240_000);
});
