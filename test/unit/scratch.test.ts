import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processScratch, removeDeadScratch } from '../../src/activities/scratch';

const roots: string[] = [];
afterAll(() => Promise.all(roots.map((r) => fs.rm(r, { recursive: true, force: true }))));

describe('scratch space of worker processes', () => {
  it('removes what workers killed -9 left behind, and never a live process’s or anything else', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-scratch-'));
    roots.push(root);
    // A real process that has exited: its pid is dead (pids are not reused this fast).
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const mine = processScratch(root);
    for (const dir of [mine, processScratch(root, gone), path.join(root, 'duckdb'), path.join(root, 'notes')]) {
      await fs.mkdir(path.join(dir, 'ingest-x'), { recursive: true });
      await fs.writeFile(path.join(dir, 'ingest-x', 'part-0'), 'rows');
    }
    const removed = await removeDeadScratch(root);
    expect(removed).toEqual([processScratch(root, gone)]);
    expect((await fs.readdir(root)).sort()).toEqual([String(process.pid), 'duckdb', 'notes'].sort());
    expect(await removeDeadScratch(path.join(root, 'missing'))).toEqual([]);
  });
});
