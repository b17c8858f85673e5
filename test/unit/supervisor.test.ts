import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pidAlive, processState } from '../../src/infra/net';
import { supervise, type SupervisedProcess } from '../../src/infra/supervisor';

/** A stand-in server: `crash()` makes it exit as if killed; `stop()` ends it normally. */
function fakeServer() {
  let exit!: (why: string) => void;
  const exited = new Promise<string>((r) => (exit = r));
  let stops = 0;
  return {
    exited,
    crash: () => exit('exited with code null signal SIGKILL'),
    stop: async () => {
      stops++;
      exit('stopped');
    },
    stops: () => stops,
  } satisfies SupervisedProcess & Record<string, unknown>;
}

const quiet = { info() {}, warn() {}, error() {} };
const until = async (cond: () => boolean, ms = 5_000) => {
  for (const deadline = Date.now() + ms; !cond(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > deadline) throw new Error('timed out');
  }
};

describe('supervise', () => {
  it('restarts a server that exits unexpectedly, with backoff after failed starts, and logs each step', async () => {
    const servers: ReturnType<typeof fakeServer>[] = [];
    let failNext = 0;
    const logs: string[] = [];
    const log = { info: (_: object, m: string) => logs.push(m), warn: (_: object, m: string) => logs.push(m), error: (_: object, m: string) => logs.push(m) };
    const sup = await supervise({
      name: 'db',
      start: async () => {
        if (failNext > 0) {
          failNext--;
          throw new Error('port still busy');
        }
        const s = fakeServer();
        servers.push(s);
        return s;
      },
      log,
      initialDelayMs: 10,
      onGiveUp: () => expect.fail('gave up'),
    });
    expect(sup.status().state).toBe('up');
    failNext = 2;
    const t0 = Date.now();
    servers[0]!.crash();
    await until(() => servers.length === 2 && sup.status().state === 'up');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(10 + 20 + 40 - 5); // 10, then 20, then 40 ms
    expect(sup.current()).toBe(servers[1]);
    expect(sup.status()).toMatchObject({ state: 'up', restarts: 1 });
    expect(logs.filter((m) => m === 'db: restarting in 10 ms' || m === 'db: restarting in 20 ms' || m === 'db: restarting in 40 ms')).toHaveLength(3);
    expect(logs.filter((m) => m === 'db: restart failed')).toHaveLength(2);
    expect(logs.some((m) => /^db: restarted after/.test(m))).toBe(true);
    await sup.stop();
    expect(servers[1]!.stops()).toBe(1);
    expect(sup.status().state).toBe('stopped');
  });

  it('gives up after too many failures within the window, with a message naming the server', async () => {
    let gaveUp: Error | null = null;
    const sup = await supervise({
      name: 'temporal',
      start: (() => {
        let first = true;
        return async () => {
          if (first) return (first = false), fakeServer();
          throw new Error('database is locked');
        };
      })(),
      log: quiet,
      initialDelayMs: 1,
      maxDelayMs: 2,
      maxFailures: 3,
      windowMs: 60_000,
      onGiveUp: (err) => (gaveUp = err),
    });
    (sup.current() as ReturnType<typeof fakeServer>).crash();
    await until(() => gaveUp !== null);
    expect(gaveUp!.message).toMatch(/^temporal failed 3 times within 60 s; giving up \(last error: restart failed: database is locked\)/);
    expect(sup.status().state).toBe('failed');
    await sup.stop();
  });

  it('does not restart what it was asked to stop, even mid-backoff', async () => {
    let starts = 0;
    const sup = await supervise({ name: 'x', start: async () => (starts++, fakeServer()), log: quiet, initialDelayMs: 200, onGiveUp: () => {} });
    await sup.stop();
    expect(starts).toBe(1);
    const sup2 = await supervise({ name: 'y', start: async () => (starts++, fakeServer()), log: quiet, initialDelayMs: 200, onGiveUp: () => {} });
    (sup2.current() as ReturnType<typeof fakeServer>).crash();
    await until(() => sup2.status().state === 'restarting');
    await sup2.stop(); // wakes the backoff sleep: no new start
    await new Promise((r) => setTimeout(r, 300));
    expect(starts).toBe(2);
  });
});

describe('pidAlive', () => {
  it('counts a zombie (exited, not reaped) as dead, though kill(pid, 0) still finds it', async () => {
    // `exec sleep` becomes the parent of the background `sleep 0.3`, which ends after the exec (so the
    // shell cannot have reaped it), and never reaps it: a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(await new Promise<string>((r) => parent.stdout!.once('data', (d: Buffer) => r(d.toString()))));
      await until(() => processState(zombie) === 'Z');
      expect(() => process.kill(zombie, 0)).not.toThrow();
      expect(pidAlive(zombie)).toBe(false);
      expect(pidAlive(parent.pid!)).toBe(true);
    } finally {
      parent.kill('SIGKILL');
    }
    expect(pidAlive(2 ** 22 + 12345)).toBe(false); // above pid_max: no such process
  });
});
