import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSource, SourceError, type SourcePart } from '../../src/data/source';

let base: string; // real path of a fresh temp dir
let root: string; // the allowed root
let outside: string;
let cwd: string; // a working directory with the product's DATA_DIR inside, as `npm start` has it
let dataDir: string;

beforeAll(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-globs-')));
  root = path.join(base, 'data');
  outside = path.join(base, 'outside');
  cwd = path.join(base, 'clone');
  dataDir = path.join(cwd, '.data');
  const files: Record<string, string> = {
    'sales/2026-11-02.csv': 'day\n2\n',
    'sales/2026-11-01.csv': 'day\n1\n',
    'sales/2026-11-10.csv': 'day\n10\n',
    'sales/2026-10-31.csv': 'day\n31\n',
    'sales/.2026-11-05.csv': 'hidden\n',
    'sales/.staging/2026-11-06.csv': 'hidden dir\n',
    'sales/2026-11-dir/part-0.csv': 'nested\n',
    'parts/a/part-0.csv': 'a0\n',
    'parts/b/part-0.csv': 'b0\n',
    'parts/b/part-1.csv': 'b1\n',
    'mixed/ok-1.csv': 'ok\n',
    'report[1].csv': 'brackets\n',
  };
  for (const [name, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), content);
  }
  await fs.mkdir(outside, { recursive: true });
  await fs.writeFile(path.join(outside, 'secret.csv'), 'secret\n');
  await fs.symlink(path.join(outside, 'secret.csv'), path.join(root, 'mixed', 'ok-2.csv'));
  await fs.symlink(path.join(root, 'sales', '2026-11-01.csv'), path.join(root, 'parts', 'a', 'part-9.csv'));
  await fs.symlink(outside, path.join(root, 'parts', 'c')); // a symlinked directory is not walked into
  await fs.mkdir(path.join(dataDir, 'datasets'), { recursive: true });
  await fs.writeFile(path.join(dataDir, 'secrets.json'), '{"approvalSecret":"s3cr3t"}');
  await fs.writeFile(path.join(dataDir, 'datasets', 'cars-1.csv'), 'a\n1\n');
  await fs.writeFile(path.join(dataDir, 'datasets', 'cars-2.csv'), 'a\n2\n');
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

const policy = () => ({ roots: [root], protectedDirs: [] });
const defaults = () => ({ roots: [cwd, path.join(dataDir, 'datasets')], protectedDirs: [dataDir] });
/** Parts name the real files they read (a symlink's target). */
const names = (parts: SourcePart[]) => parts.map((p) => path.relative(root, fileURLToPath(p.uri)));

async function refusal(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SourceError);
  expect((err as SourceError).retryable).toBe(false);
  return err as SourceError;
}

describe('resolveSource: local paths and globs', () => {
  it('one file by path or file:// URI: one part with its size, readable', async () => {
    for (const uri of [path.join(root, 'sales', '2026-11-01.csv'), pathToFileURL(path.join(root, 'sales', '2026-11-01.csv')).href]) {
      const parts = await resolveSource(uri, policy());
      expect(names(parts)).toEqual(['sales/2026-11-01.csv']);
      expect(parts[0].size).toBe(6);
      const chunks: Buffer[] = [];
      for await (const chunk of await parts[0].open()) chunks.push(chunk as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('day\n1\n');
    }
  });

  it('a glob in the last segment: the matching files, sorted, without hidden ones or directories', async () => {
    expect(names(await resolveSource(path.join(root, 'sales', '2026-11-*.csv'), policy()))).toEqual(['sales/2026-11-01.csv', 'sales/2026-11-02.csv', 'sales/2026-11-10.csv']);
    expect(names(await resolveSource(path.join(root, 'sales', '2026-1?-0*.csv'), policy()))).toEqual(['sales/2026-11-01.csv', 'sales/2026-11-02.csv']);
    expect(names(await resolveSource(`${pathToFileURL(root).href}/sales/2026-1%3F-0*.csv`, policy()))).toEqual(['sales/2026-11-01.csv', 'sales/2026-11-02.csv']);
    expect((await refusal(resolveSource(`${pathToFileURL(root).href}/sales/2026-1?-0*.csv`, policy()))).message).toContain('cannot contain "?" or "#"');
  });

  it('a glob over several segments walks real directories only, and checks symlinked matches like any file', async () => {
    // Sorted by the matched names; parts/a/part-9.csv is a symlink to sales/2026-11-01.csv.
    expect(names(await resolveSource(path.join(root, 'parts', '*', 'part-*.csv'), policy()))).toEqual(['parts/a/part-0.csv', 'sales/2026-11-01.csv', 'parts/b/part-0.csv', 'parts/b/part-1.csv']);
    expect(names(await resolveSource(path.join(root, 'parts', '**', '*.csv'), policy())).length).toBe(4);
  });

  it('a name that only looks like a pattern and exists is that file', async () => {
    expect(names(await resolveSource(path.join(root, 'report[1].csv'), policy()))).toEqual(['report[1].csv']);
  });

  it('one match that may not be read refuses the whole URI (a symlink out of the roots)', async () => {
    const err = await refusal(resolveSource(path.join(root, 'mixed', '*.csv'), policy()));
    expect(err.message).toContain('outside the allowed data directories');
    expect(err.message).not.toContain('secret');
  });

  it('nothing matching, or a missing directory, is a clear error naming the URI', async () => {
    expect((await refusal(resolveSource(path.join(root, 'sales', '2027-*.csv'), policy()))).message).toContain('no files match');
    expect((await refusal(resolveSource(path.join(root, 'nowhere', '*.csv'), policy()))).message).toMatch(/no files match .*its directory does not exist/);
  });

  it('keeps the refusals of single paths: outside the roots, "..", hidden directories, other schemes', async () => {
    expect((await refusal(resolveSource(path.join(outside, '*.csv'), policy()))).message).toContain('outside the allowed data directories');
    expect((await refusal(resolveSource(`${root}/sales/../../outside/*.csv`, policy()))).message).toContain('contains ".."');
    expect((await refusal(resolveSource(path.join(root, 'sales', '.staging', '*.csv'), policy()))).message).toMatch(/hidden directory/);
    expect((await refusal(resolveSource(path.join(root, 'sales', '.*.csv'), policy()))).message).toContain('no files match');
    expect((await refusal(resolveSource('http://example.com/*.csv', policy()))).message).toContain('unsupported URI scheme');
    expect((await refusal(resolveSource('file://host/data/x.csv', policy()))).message).toContain('not a valid file:// URI');
    expect((await refusal(resolveSource(`${root}/sales/\0.csv`, policy()))).message).toContain('NUL');
  });

  it("never globs into the product's own files, and allows the DATA_DIR/datasets drop zone", async () => {
    for (const uri of [path.join(dataDir, '*.json'), path.join(cwd, '.data', '*'), path.join(cwd, '*', 'secrets.json')]) {
      await refusal(resolveSource(uri, defaults()));
    }
    const parts = await resolveSource(path.join(dataDir, 'datasets', 'cars-*.csv'), defaults());
    expect(parts.map((p) => path.basename(p.uri))).toEqual(['cars-1.csv', 'cars-2.csv']);
  });

  it('caps the number of files', async () => {
    expect((await refusal(resolveSource(path.join(root, 'sales', '*.csv'), { ...policy(), maxParts: 2 }))).message).toContain('matches more than 2 files');
  });

  it('a file changed after it was listed fails its open() as retryable', async () => {
    const file = path.join(root, 'sales', 'changing.csv');
    await fs.writeFile(file, 'a\n1\n');
    const [part] = await resolveSource(file, policy());
    await fs.appendFile(file, '2\n');
    const err = await part.open().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(true);
  });
});
