import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { ArtifactIntegrityError, LocalArtifactStore, type ArtifactRef } from '../../src/artifacts/store';
import { scanCsv } from '../../src/data/csv';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let dir: string;
let store: LocalArtifactStore;

beforeEach(async () => {
  dir = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-store-')));
  store = new LocalArtifactStore(path.join(dir, 'artifacts'));
});

afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

async function tmpFiles(): Promise<string[]> {
  try {
    return await fs.readdir(path.join(store.root, 'tmp'));
  } catch {
    return [];
  }
}

describe('LocalArtifactStore', () => {
  it('resolves its root to an absolute path', () => {
    const relative = new LocalArtifactStore('some/rel/dir');
    expect(path.isAbsolute(relative.root)).toBe(true);
    expect(relative.root).toBe(path.resolve('some/rel/dir'));
  });

  it('stores bytes under a content address with the sha256 of the bytes', async () => {
    const data = Buffer.from('price,km\n100,1\n');
    const ref = await store.putBytes(data, 'datasets', 'csv');
    expect(ref.sha256).toBe(sha256(data));
    expect(ref.bytes).toBe(data.length);
    const file = fileURLToPath(ref.uri);
    expect(file).toBe(path.join(store.root, 'datasets', ref.sha256.slice(0, 2), `${ref.sha256}.csv`));
    expect(await fs.readFile(file)).toEqual(data);
  });

  it('keeps artifacts private to the product user (not world-readable)', async () => {
    const ref = await store.putBytes('secret,rows\n1,2\n', 'datasets', 'csv');
    const file = fileURLToPath(ref.uri);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(file))).mode & 0o077).toBe(0);
  });

  it('the same bytes give the same uri and sha256; different bytes differ', async () => {
    const a = await store.putBytes('hello', 'models', 'onnx');
    const b = await store.putBytes(Buffer.from('hello'), 'models', 'onnx');
    const c = await store.putBytes('hello!', 'models', 'onnx');
    expect(b).toEqual(a);
    expect(a.sha256).toBe(sha256('hello'));
    expect(c.sha256).toBe(sha256('hello!'));
    expect(c.uri).not.toBe(a.uri);
  });

  it('the kind is part of the address', async () => {
    const a = await store.putBytes('x', 'models', 'bin');
    const b = await store.putBytes('x', 'reports', 'bin');
    expect(a.sha256).toBe(b.sha256);
    expect(a.uri).not.toBe(b.uri);
    expect(a.uri).toContain('/models/');
    expect(b.uri).toContain('/reports/');
  });

  it('putStream hashes a multi-chunk stream and leaves no temporary files', async () => {
    const parts = ['a,b\n', '1,2\n', '3,4\n'];
    const ref = await store.putStream(Readable.from(parts.map((p) => Buffer.from(p))), 'datasets', 'csv');
    const whole = Buffer.from(parts.join(''));
    expect(ref.sha256).toBe(sha256(whole));
    expect(ref.bytes).toBe(whole.length);
    expect(await tmpFiles()).toEqual([]);
  });

  it('stores an empty artifact', async () => {
    const ref = await store.putBytes(Buffer.alloc(0), 'reports', 'json');
    expect(ref.bytes).toBe(0);
    expect(ref.sha256).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await store.read(ref)).toEqual(Buffer.alloc(0));
  });

  it('refuses a bad extension and leaves no temporary file behind', async () => {
    await expect(store.putBytes('x', 'models', '../x')).rejects.toThrow('bad artifact extension');
    await expect(store.putBytes('x', 'models', 'tar.gz')).rejects.toThrow('bad artifact extension');
    await expect(store.putBytes('x', 'models', 'CSV')).rejects.toThrow('bad artifact extension');
    await expect(store.putBytes('x', 'models', '')).rejects.toThrow('bad artifact extension');
    expect(await tmpFiles()).toEqual([]);
  });

  it('cleans up the temporary file when the source stream fails', async () => {
    const source = new Readable({
      read() {
        this.push(Buffer.from('partial'));
        this.destroy(new Error('source broke'));
      },
    });
    await expect(store.putStream(source, 'datasets', 'csv')).rejects.toThrow('source broke');
    expect(await tmpFiles()).toEqual([]);
    // nothing was stored under the hash of the partial data
    await expect(fs.access(path.join(store.root, 'datasets'))).rejects.toThrow();
  });

  it('read() returns the bytes of an intact artifact', async () => {
    const ref = await store.putBytes('some model bytes', 'models', 'onnx');
    expect((await store.read(ref)).toString()).toBe('some model bytes');
  });

  it('read() detects a tampered file', async () => {
    const ref = await store.putBytes('original', 'models', 'onnx');
    await fs.writeFile(fileURLToPath(ref.uri), 'tampered');
    const err = await store.read(ref).then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(ArtifactIntegrityError);
    expect(err!.name).toBe('ArtifactIntegrityError');
    expect(err!.message).toContain(sha256('tampered'));
    expect(err!.message).toContain(ref.sha256);
  });

  it('read() refuses a ref whose recorded hash is wrong', async () => {
    const ref = await store.putBytes('original', 'models', 'onnx');
    await expect(store.read({ ...ref, sha256: sha256('other') })).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('readStream() yields the bytes of an intact artifact', async () => {
    const data = Buffer.alloc(200_000, 7); // larger than one read chunk
    const ref = await store.putBytes(data, 'datasets', 'csv');
    const back = await collect(store.readStream(ref));
    expect(back.length).toBe(data.length);
    expect(back.equals(data)).toBe(true);
  });

  it('readStream() errors when the file was tampered with', async () => {
    const ref = await store.putBytes('original', 'models', 'onnx');
    await fs.writeFile(fileURLToPath(ref.uri), 'tampered');
    await expect(collect(store.readStream(ref))).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('scanCsv over readStream() surfaces the integrity error of a tampered dataset', async () => {
    const ref = await store.putBytes('a,b\n1,2\n', 'datasets', 'csv');
    expect(await scanCsv(store.readStream(ref))).toEqual({ header: ['a', 'b'], rowCount: 1 });
    await fs.writeFile(fileURLToPath(ref.uri), 'a,b\n1,3\n');
    await expect(scanCsv(store.readStream(ref))).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  it('readStream() errors on a truncated file', async () => {
    const ref = await store.putBytes('0123456789', 'models', 'onnx');
    await fs.truncate(fileURLToPath(ref.uri), 5);
    await expect(collect(store.readStream(ref))).rejects.toBeInstanceOf(ArtifactIntegrityError);
  });

  describe('localPath', () => {
    it('maps a file:// URI inside the root to its path', async () => {
      const ref = await store.putBytes('x', 'models', 'onnx');
      expect(store.localPath(ref)).toBe(fileURLToPath(ref.uri));
    });

    it('refuses a file:// URI outside the root', () => {
      expect(() => store.localPath({ uri: pathToFileURL(path.join(dir, 'elsewhere.onnx')).href })).toThrow('outside the artifact store');
      expect(() => store.localPath({ uri: 'file:///etc/passwd' })).toThrow('outside the artifact store');
    });

    it('refuses a file:// URI that climbs out of the root with ..', () => {
      const uri = `${pathToFileURL(store.root).href}/models/../../escape.onnx`;
      expect(() => store.localPath({ uri })).toThrow('outside the artifact store');
    });

    it('refuses a sibling directory sharing the root as a name prefix', () => {
      expect(() => store.localPath({ uri: pathToFileURL(`${store.root}-evil/x.onnx`).href })).toThrow('outside the artifact store');
    });

    it('refuses the root itself', () => {
      expect(() => store.localPath({ uri: pathToFileURL(store.root).href })).toThrow('outside the artifact store');
    });

    it.each(['s3://bucket/models/x.onnx', 'http://example.com/x.onnx', '/absolute/path/x.onnx', 'relative/x.onnx'])(
      'refuses a non-file URI: %s',
      (uri) => {
        expect(() => store.localPath({ uri })).toThrow('not a file:// URI');
      },
    );

    it('read() refuses a ref outside the root before touching the file', async () => {
      const outside = path.join(dir, 'outside.bin');
      await fs.writeFile(outside, 'x');
      const ref: ArtifactRef = { uri: pathToFileURL(outside).href, sha256: sha256('x'), bytes: 1 };
      await expect(store.read(ref)).rejects.toThrow('outside the artifact store');
      expect(() => store.readStream(ref)).toThrow('outside the artifact store');
    });
  });
});
