import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { commandLine, isPortInUse, pidAlive, processState, stopPid } from '../../src/infra/net';
import { freeProductPorts, productEnv, type ProductPorts } from '../support/productProcess';

/**
 * The real product (`node src/main.ts`, what `npm start` execs) on free ports, hurt with real process
 * kills: PostgreSQL's postmaster and the Temporal dev server SIGKILLed under it, and the product itself
 * killed -9 and started again at once. It must not crash, must say what is down (readiness, 503s that
 * name the dependency, fast), and must heal by itself.
 */
const root = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the product under real process kills', () => {
  let dataDir: string;
  let ports: ProductPorts;
  let product: { child: ChildProcess; pid: number; output: () => string } | null = null;
  const started: { pid: number; marker: string }[] = [];
  let tokens: Record<string, string>;
  const api = () => `http://127.0.0.1:${ports.api}`;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-faults-'));
    ports = await freeProductPorts();
  });

  afterAll(async () => {
    // Only what this test started, each pid checked against its command line in case it was reused.
    for (const p of [product?.pid, ...(await serverPids().catch(() => []))]) if (p) started.push({ pid: p, marker: '' });
    for (const { pid, marker } of started) if (pidAlive(pid) && (!marker || commandLine(pid)?.includes(marker))) await stopPid(pid, 10_000);
    if (!dataDir) return;
    const cluster = await fs.realpath(path.join(dataDir, 'postgres')).catch(() => null);
    if (cluster && !cluster.startsWith(dataDir)) await fs.rm(path.dirname(cluster), { recursive: true, force: true });
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  /**
   * Starts `node --import tsx src/main.ts` (the start script's command); resolves when it prints ready.
   * `unreaped`: its parent is a process that never reaps children (`sh -c 'node … & exec sleep'`), so
   * after a kill -9 it stays a zombie, as it does under npm for a moment: a restart must not take it
   * for a live owner of the servers.
   */
  async function startProduct(options: { unreaped?: boolean } = {}): Promise<{ ms: number }> {
    const t0 = Date.now();
    const command = options.unreaped
      ? spawn('sh', ['-c', `${JSON.stringify(process.execPath)} --import tsx src/main.ts & exec sleep 3600`], { cwd: root, env: productEnv(dataDir, ports, 'info'), stdio: ['ignore', 'pipe', 'pipe'] })
      : null;
    const child = command ?? spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: productEnv(dataDir, ports, 'info'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    product = { child, pid: child.pid!, output: () => out };
    started.push({ pid: child.pid!, marker: command ? 'sleep' : 'src/main.ts' });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready after 180 s:\n${out}`)), 180_000);
      child.stdout!.on('data', () => {
        if (/Lifecycle is ready in/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the product exited with ${code}:\n${out.slice(-5000)}`));
      });
    });
    product.pid = Number(/\(or this one, pid (\d+)\)/.exec(out)![1]);
    if (command) started.push({ pid: product.pid, marker: 'src/main.ts' });
    const secrets = JSON.parse(await fs.readFile(path.join(dataDir, 'secrets.json'), 'utf8')) as { tokens: { identity: string; token: string }[] };
    tokens = Object.fromEntries(secrets.tokens.map((t) => [t.identity, t.token]));
    return { ms: Date.now() - t0 };
  }


  async function serverPids(): Promise<number[]> {
    const temporal = Number((await fs.readFile(path.join(dataDir, 'temporal.db.pid'), 'utf8')).split(/\s+/)[0]);
    const postgres = Number((await fs.readFile(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8')).split('\n')[0]);
    return [temporal, postgres];
  }

  async function call(method: string, url: string, body?: unknown, as = 'local-engineer', timeoutMs = 15_000) {
    const t0 = Date.now();
    const res = await fetch(`${api()}${url}`, {
      method,
      headers: { authorization: `Bearer ${tokens[as]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: (await res.json()) as any, ms: Date.now() - t0 };
  }
  const ready = () => fetch(`${api()}/health/ready`, { signal: AbortSignal.timeout(10_000) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

  /** Polls until the product is ready again; returns the ms from `since`, and what was seen meanwhile. */
  async function untilReady(since: number, probe?: () => Promise<void>): Promise<number> {
    for (;;) {
      expect(pidAlive(product!.pid), `the product is still running\n${product!.output().slice(-3000)}`).toBe(true);
      await probe?.();
      const r = await ready().catch(() => null);
      if (r?.status === 200) return Date.now() - since;
      if (Date.now() - since > 90_000) throw new Error(`not ready 90 s after the kill: ${JSON.stringify(r?.body)}\n${product!.output().slice(-3000)}`);
      await sleep(100);
    }
  }

  /** Training on this many rows takes seconds: long enough to hurt the product in the middle of it. */
  const BIG_ROWS = 300_000;

  /** Starts a run through the API on generated cars and waits until it reaches `stage`; returns its workflow id. */
  async function startRunUntil(modelName: string, rows: number, seed: number, stage: string): Promise<string> {
    const file = path.join(dataDir, 'datasets', `${modelName}.csv`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(rows, seed));
    const start = await call('POST', '/lifecycles', { modelName, datasetUri: file, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['local-approver'] });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const id: string = start.body.workflowId;
    for (const deadline = Date.now() + 120_000; (await call('GET', `/lifecycles/${id}?view=summary`)).body.stage !== stage; ) {
      if (Date.now() > deadline) throw new Error(`${modelName} never reached ${stage}`);
      await sleep(100);
    }
    return id;
  }

  /** How the run's trainModel went, from its history (the last attempt is recorded on the Started event). */
  async function trainAttempts(id: string): Promise<{ scheduled: number; attempt: number; failed: number }> {
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const events = (await new Client({ connection }).workflow.getHandle(id).fetchHistory()).events ?? [];
      const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'trainModel').map((e) => Number(e.eventId));
      const started = events.filter((e) => scheduled.includes(Number(e.activityTaskStartedEventAttributes?.scheduledEventId)));
      const failed = events.filter((e) => scheduled.includes(Number(e.activityTaskFailedEventAttributes?.scheduledEventId ?? e.activityTaskTimedOutEventAttributes?.scheduledEventId)));
      return { scheduled: scheduled.length, attempt: Math.max(...started.map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0)), failed: failed.length };
    } finally {
      await connection.close();
    }
  }

  it('starts, and reports every dependency ready', async () => {
    const { ms } = await startProduct({ unreaped: true });
    console.log(`faults: product ready in ${(ms / 1000).toFixed(1)} s`);
    const r = await ready();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ready: true, down: [], dependencies: { temporal: { state: 'up' }, postgres: { state: 'up' }, worker: { state: 'up' } } });
    expect((await fetch(`${api()}/health/live`)).status).toBe(200);
  }, 240_000);

  it('PostgreSQL SIGKILLed while idle: no crash, 503s naming postgres, the supervisor restarts it', async () => {
    // A query first, so the pool holds an idle connection (whose loss once crashed the process).
    expect((await call('GET', '/models')).status).toBe(200);
    const [, postmaster] = await serverPids();
    const killedAt = Date.now();
    process.kill(postmaster!, 'SIGKILL');

    const seen = { readyDown: 0, models503: 0, slowest: 0 };
    const recoveredMs = await untilReady(killedAt, async () => {
      const r = await ready().catch(() => null);
      if (r?.status === 503) {
        expect(r.body.down).toContain('postgres');
        expect(r.body.error).toMatch(/^postgres unavailable: /);
        seen.readyDown++;
      }
      const m = await call('GET', '/models');
      seen.slowest = Math.max(seen.slowest, m.ms);
      if (m.status === 503) {
        expect(m.body.error).toMatch(/^postgres unavailable: /);
        seen.models503++;
      } else {
        expect(m.status).toBe(200);
      }
    });
    console.log(`faults: PostgreSQL SIGKILLed → ready again in ${(recoveredMs / 1000).toFixed(1)} s (readiness said postgres down ${seen.readyDown}×, GET /models 503 ${seen.models503}×, slowest answer ${seen.slowest} ms)`);
    expect(seen.readyDown).toBeGreaterThan(0);
    expect(seen.models503).toBeGreaterThan(0);
    expect(seen.slowest).toBeLessThan(5_000);
    expect((await call('GET', '/models')).status).toBe(200);
    expect(product!.output()).toMatch(/postgres: restarted after/);
    // The pool's idle connection died with the server: logged, not fatal (the process is alive, checked
    // above). Whether the pool still held one at the kill depends on timing under load: reported, not required.
    await sleep(500);
    console.log(`faults: pool error for the idle connection logged: ${/an idle PostgreSQL connection failed/.test(product!.output())}`);
    // A new postmaster, on the same port.
    const [, again] = await serverPids();
    expect(again).not.toBe(postmaster);
    expect(await isPortInUse(ports.postgres)).toBe(true);
  }, 120_000);

  it('Temporal SIGKILLed while a run waits for approval: 503 fast, the run still waits after the restart, and a decision is accepted', async () => {
    const file = path.join(dataDir, 'datasets', 'cars.csv');
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, usedCarsCsv(2000));
    const start = await call('POST', '/lifecycles', {
      modelName: 'faults-car-price',
      datasetUri: file,
      target: USED_CAR_TARGET,
      features: USED_CAR_FEATURES,
      trainer: { name: 'ridge', params: { alpha: 1 } },
      approvers: ['local-approver'],
      approvalTimeout: '1d',
    });
    expect(start.status, JSON.stringify(start.body)).toBe(201);
    const id: string = start.body.workflowId;
    const stageOf = (b: any) => b.status?.stage ?? b.stage;
    for (const deadline = Date.now() + 60_000; ; ) {
      const s = await call('GET', `/lifecycles/${id}`);
      expect(s.status, JSON.stringify(s.body)).toBe(200);
      if (stageOf(s.body) === 'awaiting-approval') break;
      if (Date.now() > deadline) throw new Error(`never waited for approval: ${JSON.stringify(s.body)}`);
      await sleep(300);
    }

    const [temporal] = await serverPids();
    const killedAt = Date.now();
    process.kill(temporal!, 'SIGKILL');
    const seen = { status503: 0, approve503: 0, slowest: 0 };
    const recoveredMs = await untilReady(killedAt, async () => {
      const s = await call('GET', `/lifecycles/${id}`);
      seen.slowest = Math.max(seen.slowest, s.ms);
      if (s.status === 503) {
        expect(s.body.error).toMatch(/^temporal unavailable: /);
        seen.status503++;
      } else {
        expect(s.status, JSON.stringify(s.body)).toBe(200);
      }
    });
    console.log(`faults: Temporal SIGKILLed → ready again in ${(recoveredMs / 1000).toFixed(1)} s (GET /lifecycles/{id} 503 ${seen.status503}×, slowest answer ${seen.slowest} ms)`);
    expect(seen.slowest).toBeLessThan(5_000);
    expect(product!.output()).toMatch(/temporal: restarted after/);

    const after = await call('GET', `/lifecycles/${id}`);
    expect(after.status).toBe(200);
    expect(after.body.temporalStatus).toBe('RUNNING');
    expect(stageOf(after.body)).toBe('awaiting-approval');
    // The worker reconnected by itself: it reviews the decision (a `decide` update) on the new server.
    const verdict = await call('POST', `/lifecycles/${id}/approve`, { comment: 'after the Temporal restart' }, 'local-approver', 60_000);
    expect(verdict.status, JSON.stringify(verdict.body)).toBe(200);
    expect(verdict.body).toMatchObject({ accepted: true, state: 'accepted' });
    for (const deadline = Date.now() + 60_000; ; ) {
      const s = await call('GET', `/lifecycles/${id}`);
      if (s.body.temporalStatus === 'COMPLETED') break;
      if (Date.now() > deadline) throw new Error(`not completed: ${JSON.stringify(s.body)}`);
      await sleep(300);
    }
  }, 180_000);

  it('restarting 0.5 s after kill -9 of the product works: orphaned servers are stopped and replaced', async () => {
    const old = await serverPids();
    const killed = product!;
    const killedAt = Date.now();
    process.kill(killed.pid, 'SIGKILL');
    await sleep(500);
    // Its parent does not reap it: it is a zombie, which `kill -0` still finds. Dead all the same.
    expect(processState(killed.pid)).toBe('Z');
    expect(pidAlive(killed.pid)).toBe(false);
    const { ms } = await startProduct();
    console.log(`faults: product killed -9, started again 0.5 s later: ready in ${(ms / 1000).toFixed(1)} s (${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill)`);
    for (const pid of old) expect(pidAlive(pid), `orphan ${pid} stopped`).toBe(false);
    expect((await ready()).status).toBe(200);
    expect((await call('GET', '/models')).body.models.map((m: { name: string }) => m.name)).toContain('faults-car-price');
    killed.child.kill('SIGKILL'); // the non-reaping parent; init reaps the zombie
  }, 240_000);

  it('Ctrl-C during training: the worker drains (training ends), and after a restart the run goes on without training again', async () => {
    const id = await startRunUntil('faults-ctrl-c', BIG_ROWS, 5, 'train');
    const stopping = Date.now();
    product!.child.kill('SIGINT'); // what Ctrl-C sends
    expect(await new Promise<number | null>((r) => product!.child.once('exit', r))).toBe(0);
    console.log(`faults: SIGINT during training → stopped in ${((Date.now() - stopping) / 1000).toFixed(1)} s (the worker drained)`);

    await startProduct();
    for (const deadline = Date.now() + 120_000; ; ) {
      const s = await call('GET', `/lifecycles/${id}`);
      if (s.body.stage === 'awaiting-approval') break;
      if (Date.now() > deadline || s.body.temporalStatus !== 'RUNNING') throw new Error(`after the restart: ${JSON.stringify(s.body)}`);
      await sleep(300);
    }
    // One attempt, finished while the product stopped: the model was not trained again.
    expect(await trainAttempts(id)).toEqual({ scheduled: 1, attempt: 1, failed: 0 });
    const versions = await call('GET', '/models/faults-ctrl-c/versions');
    expect(versions.body.versions).toHaveLength(1);
  }, 300_000);

  it('PostgreSQL SIGKILLed during training: the run goes on once it is back, trained once, and deploys after the approval', async () => {
    const id = await startRunUntil('faults-pg-train', BIG_ROWS, 6, 'train');
    const [, postgres] = await serverPids();
    const killedAt = Date.now();
    process.kill(postgres!, 'SIGKILL');
    for (const deadline = Date.now() + 180_000; ; ) {
      const s = await call('GET', `/lifecycles/${id}`).catch(() => null);
      if (s?.body.stage === 'awaiting-approval') break;
      if (Date.now() > deadline || (s && s.body.temporalStatus && s.body.temporalStatus !== 'RUNNING')) throw new Error(`after the PostgreSQL kill: ${JSON.stringify(s?.body)}`);
      await sleep(200);
    }
    const verdict = await call('POST', `/lifecycles/${id}/approve`, { comment: 'after the database came back' }, 'local-approver', 60_000);
    expect(verdict.status, JSON.stringify(verdict.body)).toBe(200);
    for (const deadline = Date.now() + 60_000; ; ) {
      const s = await call('GET', `/lifecycles/${id}`);
      if (s.body.temporalStatus === 'COMPLETED') {
        expect(s.body.outcome).toBe('deployed');
        break;
      }
      if (Date.now() > deadline) throw new Error(`not deployed: ${JSON.stringify(s.body)}`);
      await sleep(200);
    }
    console.log(`faults: PostgreSQL SIGKILLed during training → deployed ${((Date.now() - killedAt) / 1000).toFixed(1)} s later, approval included, no manual step`);
    const versions = await call('GET', '/models/faults-pg-train/versions');
    expect(versions.body.versions).toHaveLength(1);
    // Trained once: either the first attempt got through, or a retry registered the model the first one kept.
    const lines = product!.output().split('\n').filter((l) => l.includes(id));
    const trained = lines.filter((l) => l.includes('"msg":"candidate trained"'));
    expect(trained).toHaveLength(1);
    const resumed = lines.some((l) => l.includes('registering it without training again'));
    const { attempt } = await trainAttempts(id);
    console.log(`faults: trainModel attempt ${attempt}: ${resumed ? 'the retry registered the model the first attempt kept' : 'no retry was needed'}`);
    // A retry (attempt > 1) must have found the kept model instead of training again.
    expect(attempt === 1 || resumed, `attempt ${attempt} trained again`).toBe(true);
  }, 300_000);

  it('PostgreSQL SIGKILLed during deploy: the deploy is retried once it is back, and the alias moves exactly once', async () => {
    const modelName = 'faults-pg-deploy';
    const id = await startRunUntil(modelName, 2000, 7, 'awaiting-approval');
    // Hold the model's registry row, so the deploy is caught inside its alias move when PostgreSQL dies.
    // The password file sits beside the cluster (under /var/lib/lifecycle when root had to relocate it).
    const cluster = await fs.realpath(path.join(dataDir, 'postgres'));
    const password = (await fs.readFile(`${cluster}.password`, 'utf8').catch(() => fs.readFile(path.join(dataDir, 'postgres.password'), 'utf8'))).trim();
    const locker = new pg.Client({ connectionString: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${ports.postgres}/lifecycle` });
    locker.on('error', () => {}); // it dies with the server
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM models WHERE name = $1 FOR UPDATE', [modelName]);
    expect((await call('POST', `/lifecycles/${id}/approve`, { comment: 'ship it' }, 'local-approver', 60_000)).status).toBe(200);
    const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    try {
      const handle = new Client({ connection }).workflow.getHandle(id);
      for (const deadline = Date.now() + 30_000; ; ) {
        const { raw } = await handle.describe();
        if (raw.pendingActivities?.some((a) => a.activityType?.name === 'deployModel')) break;
        if (Date.now() > deadline) throw new Error('deployModel never started');
        await sleep(50);
      }
      await sleep(300); // inside the alias move, waiting for the row
      const [, postgres] = await serverPids();
      const killedAt = Date.now();
      process.kill(postgres!, 'SIGKILL');
      await locker.end().catch(() => {});
      for (const deadline = Date.now() + 40_000; ; ) {
        const s = await call('GET', `/lifecycles/${id}?view=summary`).catch(() => null);
        if (s?.body.temporalStatus === 'COMPLETED') {
          expect(s.body.outcome).toBe('deployed');
          break;
        }
        if (Date.now() > deadline) throw new Error(`not deployed after the PostgreSQL kill: ${JSON.stringify(s?.body)}\n${product!.output().split('\n').slice(-40).join('\n')}`);
        await sleep(200);
      }
      console.log(`faults: PostgreSQL SIGKILLed during deploy → deployed ${((Date.now() - killedAt) / 1000).toFixed(1)} s later, no manual step`);
    } finally {
      await connection.close();
    }
    const versions = await call('GET', `/models/${modelName}/versions`);
    expect(versions.body.aliasHistory.map((m: { fromVersion: number | null; toVersion: number }) => [m.fromVersion, m.toVersion])).toEqual([[null, 1]]);
    expect(versions.body.versions.map((v: { status: string }) => v.status)).toEqual(['deployed']);
  }, 300_000);

  it('one signal stops it all', async () => {
    const pids = [product!.pid, ...(await serverPids())];
    product!.child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => product!.child.once('exit', r));
    expect(code).toBe(0);
    for (const deadline = Date.now() + 15_000; pids.some(pidAlive); ) {
      if (Date.now() > deadline) throw new Error(`still running: ${pids.filter(pidAlive).join(', ')}`);
      await sleep(100);
    }
    for (const port of Object.values(ports)) expect(await isPortInUse(port)).toBe(false);
  }, 60_000);
});
