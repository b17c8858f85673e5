import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { SourceError, resolveLocalSource } from '../../src/data/source';

let base: string; // real path of a fresh temp dir
let root: string; // the allowed root: base/data
let outside: string; // base/outside, not allowed
let sibling: string; // base/data2: shares the root's name as a prefix

beforeAll(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-source-')));
  root = path.join(base, 'data');
  outside = path.join(base, 'outside');
  sibling = path.join(base, 'data2');
  for (const d of [root, path.join(root, 'sub'), outside, sibling]) await fs.mkdir(d, { recursive: true });
  await fs.writeFile(path.join(root, 'cars.csv'), 'a,b\n1,2\n');
  await fs.writeFile(path.join(root, 'sub', 'more.csv'), 'a,b\n1,2\n');
  await fs.writeFile(path.join(outside, 'secret.csv'), 'a,b\n1,2\n');
  await fs.writeFile(path.join(sibling, 'x.csv'), 'a,b\n1,2\n');
  await fs.symlink(path.join(outside, 'secret.csv'), path.join(root, 'escape.csv'));
  await fs.symlink(path.join(root, 'sub', 'more.csv'), path.join(root, 'inside-link.csv'));
  await fs.symlink(outside, path.join(root, 'outdir'));
});

afterAll(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

async function refusal(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return err as SourceError;
  }
  throw new Error('expected resolveLocalSource to refuse');
}

describe('resolveLocalSource', () => {
  it('resolves a plain absolute path inside the root', async () => {
    expect(await resolveLocalSource(path.join(root, 'cars.csv'), { roots: [root], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
  });

  it('resolves a file in a subdirectory of the root', async () => {
    expect(await resolveLocalSource(path.join(root, 'sub', 'more.csv'), { roots: [root], protectedDirs: [] })).toBe(path.join(root, 'sub', 'more.csv'));
  });

  it('resolves a file:// URI', async () => {
    const uri = pathToFileURL(path.join(root, 'cars.csv')).href;
    expect(uri.startsWith('file://')).toBe(true);
    expect(await resolveLocalSource(uri, { roots: [root], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
  });

  it('accepts the file when any one of several roots contains it', async () => {
    expect(await resolveLocalSource(path.join(root, 'cars.csv'), { roots: [outside, root], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
  });

  it('accepts a root given with a trailing slash', async () => {
    expect(await resolveLocalSource(path.join(root, 'cars.csv'), { roots: [root + path.sep], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
  });

  it('follows a symlink that stays inside the root, returning the real path', async () => {
    expect(await resolveLocalSource(path.join(root, 'inside-link.csv'), { roots: [root], protectedDirs: [] })).toBe(path.join(root, 'sub', 'more.csv'));
  });

  it('refuses paths with ".." even when they would land inside the root', async () => {
    const err = await refusal(resolveLocalSource(`${root}/sub/../cars.csv`, { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('..');
    await refusal(resolveLocalSource(`${root}/../outside/secret.csv`, { roots: [root], protectedDirs: [] }));
  });

  it('refuses a file:// URI that escapes the root', async () => {
    await refusal(resolveLocalSource(`file://${root}/../outside/secret.csv`, { roots: [root], protectedDirs: [] }));
  });

  it.each(['s3://bucket/cars.csv', 'http://example.com/cars.csv', 'https://example.com/cars.csv', 'ftp://host/x.csv'])(
    'refuses the unsupported scheme of %s',
    async (uri) => {
      const err = await refusal(resolveLocalSource(uri, { roots: [root], protectedDirs: [] }));
      expect(err.message).toContain('unsupported URI scheme');
      expect(err.message).toContain(uri);
    },
  );

  it('refuses a missing file, saying it does not exist', async () => {
    const err = await refusal(resolveLocalSource(path.join(root, 'nope.csv'), { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('does not exist');
  });

  it('refuses a directory', async () => {
    const err = await refusal(resolveLocalSource(path.join(root, 'sub'), { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('not a file');
  });

  it('refuses a symlink inside the root pointing outside it', async () => {
    const err = await refusal(resolveLocalSource(path.join(root, 'escape.csv'), { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('outside the allowed data directories');
  });

  it('refuses a file reached through a symlinked directory pointing outside', async () => {
    const err = await refusal(resolveLocalSource(path.join(root, 'outdir', 'secret.csv'), { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('outside the allowed data directories');
  });

  it('refuses a file outside the roots, naming the roots and INGEST_ROOTS', async () => {
    const err = await refusal(resolveLocalSource(path.join(outside, 'secret.csv'), { roots: [root], protectedDirs: [] }));
    expect(err.message).toContain('outside the allowed data directories');
    expect(err.message).toContain(root);
    expect(err.message).toContain('INGEST_ROOTS');
  });

  it('does not treat a sibling directory sharing the root as a name prefix as inside', async () => {
    await refusal(resolveLocalSource(path.join(sibling, 'x.csv'), { roots: [root], protectedDirs: [] }));
  });

  it('refuses everything when no roots are allowed', async () => {
    await refusal(resolveLocalSource(path.join(root, 'cars.csv'), { roots: [], protectedDirs: [] }));
  });

  it('resolves roots through symlinks too', async () => {
    const linkRoot = path.join(base, 'root-link');
    await fs.symlink(root, linkRoot);
    expect(await resolveLocalSource(path.join(root, 'cars.csv'), { roots: [linkRoot], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
    expect(await resolveLocalSource(path.join(linkRoot, 'cars.csv'), { roots: [root], protectedDirs: [] })).toBe(path.join(root, 'cars.csv'));
  });
});

describe('the product\'s own files and hidden files are never ingestible', () => {
  let cwd: string; // a working directory as `npm start` has it: data dir inside, datasets beside
  let dataDir: string;
  beforeAll(async () => {
    cwd = path.join(base, 'clone');
    dataDir = path.join(cwd, '.data');
    await fs.mkdir(path.join(dataDir, 'datasets'), { recursive: true });
    await fs.mkdir(path.join(cwd, 'custom-data'), { recursive: true });
    await fs.mkdir(path.join(cwd, '.git'), { recursive: true });
    await fs.writeFile(path.join(dataDir, 'secrets.json'), '{"approvalSecret":"s3cr3t"}');
    await fs.writeFile(path.join(dataDir, 'postgres.password'), 'hunter2');
    await fs.writeFile(path.join(dataDir, 'datasets', 'cars.csv'), 'a,b\n1,2\n');
    await fs.writeFile(path.join(cwd, '.env'), 'APPROVAL_SECRET=s3cr3t');
    await fs.writeFile(path.join(cwd, '.git', 'config'), '[core]');
    await fs.writeFile(path.join(cwd, 'custom-data', 'cars.csv'), 'a,b\n1,2\n');
    await fs.symlink(path.join(dataDir, 'secrets.json'), path.join(cwd, 'custom-data', 'innocent.csv'));
  });
  const defaults = () => ({ roots: [cwd, path.join(dataDir, 'datasets')], protectedDirs: [dataDir] });

  it('refuses DATA_DIR files through the working directory root, by path, file:// URI or symlink', async () => {
    for (const uri of [
      path.join(dataDir, 'secrets.json'),
      `file://${path.join(dataDir, 'postgres.password')}`,
      path.join(cwd, 'custom-data', 'innocent.csv'),
    ]) {
      const err = await refusal(resolveLocalSource(uri, defaults()));
      expect(err.message).toMatch(/hidden file or one of the product's own files/);
      expect(err.message).not.toMatch(/s3cr3t|hunter2/);
    }
  });

  it('refuses them even when DATA_DIR itself is named as an ingest root', async () => {
    const err = await refusal(resolveLocalSource(path.join(dataDir, 'secrets.json'), { roots: [dataDir], protectedDirs: [dataDir] }));
    expect(err.message).toMatch(/product's own files/);
  });

  it('refuses hidden files and directories below a root (.env, .git)', async () => {
    for (const file of [path.join(cwd, '.env'), path.join(cwd, '.git', 'config')]) {
      await refusal(resolveLocalSource(file, defaults()));
    }
  });

  it('accepts datasets in the DATA_DIR/datasets drop zone and in ordinary folders of the working directory', async () => {
    expect(await resolveLocalSource(path.join(dataDir, 'datasets', 'cars.csv'), defaults())).toBe(path.join(dataDir, 'datasets', 'cars.csv'));
    expect(await resolveLocalSource(path.join(cwd, 'custom-data', 'cars.csv'), defaults())).toBe(path.join(cwd, 'custom-data', 'cars.csv'));
  });

  it('quotes a hostile URI short and escaped', async () => {
    const err = await refusal(resolveLocalSource(`/nowhere/${'x'.repeat(5000)}\u0007.csv`, defaults()));
    expect(err.message.length).toBeLessThan(400);
    expect(err.message).not.toContain('\u0007');
  });
});
