import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../src/artifacts/store';

/**
 * The artifact disk running full during an ingest: the put fails with ENOSPC and leaves no temporary
 * file behind; once space is freed the same put (the activity's retry) succeeds with the same address.
 */
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) {
    if (process.getuid?.() === 0) {
      try {
        execFileSync('umount', [d], { stdio: 'ignore' });
      } catch {
        // not a mount point
      }
    }
    await fs.rm(d, { recursive: true, force: true });
  }
});
const tmpFiles = async (root: string) => (await fs.readdir(path.join(root, 'tmp')).catch(() => [])).length;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('artifact store when the disk is full', () => {
  it('a write failing with ENOSPC leaves no temporary file, and the retry succeeds', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-enospc-'));
    dirs.push(root);
    const store = new LocalArtifactStore(root);
    const data = Buffer.alloc(256 * 1024, 7);
    // A stream that delivers part of the data, then fails as a full disk does.
    const failing = new Readable({
      read() {
        this.push(data.subarray(0, 64 * 1024));
        this.destroy(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
      },
    });
    await expect(store.putStream(failing, 'datasets', 'csv')).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await tmpFiles(root)).toBe(0);
    const ref = await store.putStream(Readable.from([data]), 'datasets', 'csv');
    expect(ref).toMatchObject({ sha256: sha256(data), bytes: data.length });
    expect(await store.read(ref)).toEqual(data);
    expect(await tmpFiles(root)).toBe(0);
  });

  // A real full filesystem: a 1 MiB tmpfs (mounting needs root; CI runs as root).
  it.skipIf(process.getuid?.() !== 0)('on a real 1 MiB tmpfs: ENOSPC, no temporary file, and the same put succeeds once space is freed', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-tmpfs-'));
    dirs.push(root);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', root]);
    const store = new LocalArtifactStore(root);
    const filler = path.join(root, 'filler');
    await fs.writeFile(filler, Buffer.alloc(700 * 1024, 1));
    const data = Buffer.alloc(512 * 1024, 9);
    const err = await store.putStream(Readable.from([data]), 'datasets', 'csv').then(() => null, (e: NodeJS.ErrnoException) => e);
    expect(err?.code).toBe('ENOSPC');
    expect(await tmpFiles(root)).toBe(0);
    await fs.rm(filler); // space freed: the retry goes through
    const ref = await store.putStream(Readable.from([data]), 'datasets', 'csv');
    expect(ref.sha256).toBe(sha256(data));
    expect(await store.read(ref)).toEqual(data);
    expect(await tmpFiles(root)).toBe(0);
  });
});
