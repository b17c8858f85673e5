import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DeleteObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createArtifactStore } from '../../src/artifacts';
import { S3ArtifactStore } from '../../src/artifacts/s3Store';
import { ArtifactIntegrityError, LocalArtifactStore, type ArtifactRef, type ArtifactStore } from '../../src/artifacts/store';
import { loadConfig } from '../../src/config';
import { createS3Client } from '../../src/data/s3';
import { adminS3, createTestBucket, testS3Env, testS3Settings } from '../support/s3';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** What the suite needs to know about a store beyond its interface: how to damage what it holds. */
interface Backend {
  name: string;
  store: ArtifactStore;
  /** Replaces the stored bytes behind a ref (a disk or bucket corrupted or tampered with). */
  tamper(ref: ArtifactRef, data: string): Promise<void>;
  /** Removes the stored bytes behind the store's back. */
  remove(ref: ArtifactRef): Promise<void>;
  /** Refs under the store's location that it must refuse: elsewhere, climbing out, not an artifact. */
  foreign: string[];
  /** Leftovers of puts in progress (temporary files, unfinished uploads). */
  leftovers(): Promise<string[]>;
}

let dir: string;
const backends: Backend[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-stores-'));
  const local = new LocalArtifactStore(path.join(dir, 'local'));
  backends.push({
    name: 'LocalArtifactStore',
    store: local,
    tamper: (ref, data) => fs.writeFile(local.localPath(ref), data),
    remove: (ref) => fs.rm(local.localPath(ref)),
    foreign: [
      pathToFileURL(path.join(dir, 'elsewhere.onnx')).href,
      `${local.location}/models/../../escape.onnx`,
      `${local.location}/named/checkpoints/abc`,
      `${local.location}-evil/models/00/${'0'.repeat(64)}.onnx`,
      `s3://bucket/models/00/${'0'.repeat(64)}.onnx`,
    ],
    leftovers: async () => fs.readdir(path.join(local.root, 'tmp')).catch(() => []),
  });

  const bucket = await createTestBucket('stores');
  const cacheDir = path.join(dir, 's3-cache');
  // Small parts, so that a 12 MiB file goes up as a multipart upload (S3's minimum part is 5 MiB).
  const s3 = new S3ArtifactStore({ client: createS3Client(testS3Settings()), bucket, prefix: 'lake/artifacts', cacheDir, partSize: 5 * 2 ** 20, multipartThreshold: 5 * 2 ** 20 });
  const keyOf = (ref: ArtifactRef) => ref.uri.slice(`s3://${bucket}/`.length);
  backends.push({
    name: 'S3ArtifactStore',
    store: s3,
    tamper: async (ref, data) => {
      await adminS3().send(new PutObjectCommand({ Bucket: bucket, Key: keyOf(ref), Body: Buffer.from(data) }));
      await fs.rm(path.join(cacheDir, ref.sha256.slice(0, 2)), { recursive: true, force: true });
    },
    remove: async (ref) => {
      await adminS3().send(new DeleteObjectCommand({ Bucket: bucket, Key: keyOf(ref) }));
    },
    foreign: [
      `s3://other-bucket/lake/artifacts/models/00/${'0'.repeat(64)}.onnx`,
      `s3://${bucket}/lake/models/00/${'0'.repeat(64)}.onnx`,
      `s3://${bucket}/lake/artifacts-evil/models/00/${'0'.repeat(64)}.onnx`,
      `s3://${bucket}/lake/artifacts/models/../../../secret.csv`,
      `s3://${bucket}/lake/artifacts/named/checkpoints/abc`,
      `s3://${bucket}/lake/artifacts/models/00/${'0'.repeat(64)}.onnx/../x`,
      pathToFileURL(path.join(dir, 'x.onnx')).href,
    ],
    leftovers: async () => {
      const uploads = await adminS3().send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      const tmp = await fs.readdir(path.join(cacheDir, 'tmp')).catch(() => []);
      return [...(uploads.Uploads ?? []).map((u) => `upload ${u.Key}`), ...tmp];
    },
  });
});

afterAll(async () => {
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe.each(['LocalArtifactStore', 'S3ArtifactStore'])('%s (one conformance suite for both stores)', (name) => {
  const b = () => backends.find((x) => x.name === name)!;
  const store = () => b().store;

  it('stores bytes under their sha256 inside its location, and reads them back', async () => {
    const data = `make,price\nDacia,${randomBytes(8).toString('hex')}\n`;
    const ref = await store().putBytes(data, 'datasets', 'csv');
    expect(ref).toMatchObject({ sha256: sha256(data), bytes: Buffer.byteLength(data) });
    expect(ref.uri.startsWith(`${store().location}/datasets/${ref.sha256.slice(0, 2)}/${ref.sha256}.csv`)).toBe(true);
    expect((await store().read(ref)).toString()).toBe(data);
    expect((await collect(store().readStream(ref))).toString()).toBe(data);
  });

  it('gives the same bytes the same address, idempotently; another kind or content another address', async () => {
    const token = randomBytes(8).toString('hex');
    const a = await store().putBytes(`hello ${token}`, 'models', 'onnx');
    const b2 = await store().putStream(Readable.from([Buffer.from('hello '), Buffer.from(token)]), 'models', 'onnx');
    expect(b2).toEqual(a);
    expect(await store().exists(a)).toBe(true);
    expect((await store().putBytes(`hello ${token}`, 'reports', 'onnx')).uri).not.toBe(a.uri);
    expect((await store().putBytes(`hello! ${token}`, 'models', 'onnx')).sha256).not.toBe(a.sha256);
  });

  it('stores an empty artifact', async () => {
    const ref = await store().putBytes(Buffer.alloc(0), 'reports', 'json');
    expect(ref.bytes).toBe(0);
    expect(await store().read(ref)).toEqual(Buffer.alloc(0));
    expect(await store().exists(ref)).toBe(true);
  });

  it('accepts the extensions the pipeline writes and refuses anything that could be a path', async () => {
    for (const ext of ['csv', 'gz', 'parquet', 'json', 'html', 'onnx']) await store().putBytes(`x-${ext}`, 'datasets', ext);
    for (const ext of ['../x', 'tar.gz', 'CSV', '', 'a/b']) await expect(store().putBytes('x', 'models', ext)).rejects.toThrow('bad artifact extension');
    await expect(store().putBytes('x', 'secrets' as never, 'csv')).rejects.toThrow('bad artifact kind');
  });

  it('leaves nothing behind when the source breaks mid-way, and a retry succeeds', async () => {
    const data = randomBytes(64 * 1024);
    async function* breaking() {
      yield data.subarray(0, 1000);
      throw new Error('source broke');
    }
    await expect(store().putStream(Readable.from(breaking()), 'datasets', 'csv')).rejects.toThrow('source broke');
    expect(await b().leftovers()).toEqual([]);
    const ref = await store().putStream(Readable.from([data]), 'datasets', 'csv');
    expect(await store().read(ref)).toEqual(data);
  });

  it('refuses bytes that do not match the recorded hash: read, readStream and localFile', async () => {
    const ref = await store().putBytes(`original ${randomBytes(4).toString('hex')}`, 'models', 'onnx');
    await expect(store().read({ ...ref, sha256: sha256('other') })).rejects.toBeInstanceOf(ArtifactIntegrityError);
    await b().tamper(ref, 'tampered with');
    await expect(store().read(ref)).rejects.toBeInstanceOf(ArtifactIntegrityError);
    await expect(collect(store().readStream(ref))).rejects.toBeInstanceOf(ArtifactIntegrityError);
    if (name === 'S3ArtifactStore') {
      await expect(store().localFile(ref)).rejects.toBeInstanceOf(ArtifactIntegrityError);
      expect(await b().leftovers()).toEqual([]); // the refused download is not kept
    }
  });

  it('readStream errors (never hangs) for a missing artifact', async () => {
    const ref = await store().putBytes(`soon gone ${randomBytes(4).toString('hex')}`, 'models', 'onnx');
    await b().remove(ref);
    await expect(collect(store().readStream(ref))).rejects.toThrow();
  });

  it('exists() is true only for the artifact stored with its recorded size', async () => {
    const ref = await store().putBytes(`present ${randomBytes(4).toString('hex')}`, 'models', 'onnx');
    expect(await store().exists(ref)).toBe(true);
    expect(await store().exists({ ...ref, bytes: ref.bytes + 1 })).toBe(false);
    await b().remove(ref);
    expect(await store().exists(ref)).toBe(false);
  });

  it('localFile() gives a private local file with the verified bytes', async () => {
    const data = `local ${randomBytes(16).toString('hex')}`;
    const ref = await store().putBytes(data, 'datasets', 'csv');
    const file = await store().localFile(ref);
    expect(await fs.readFile(file, 'utf8')).toBe(data);
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(await store().localFile(ref)).toBe(file);
  });

  it('delete() removes the artifact and is idempotent', async () => {
    const ref = await store().putBytes(`delete me ${randomBytes(4).toString('hex')}`, 'reports', 'json');
    await store().delete(ref);
    expect(await store().exists(ref)).toBe(false);
    await store().delete(ref);
    await expect(store().read(ref)).rejects.toThrow();
  });

  it('putFile() stores a finished file (same address as its bytes) and takes the file away', async () => {
    const data = randomBytes(100_000);
    const file = path.join(dir, `finished-${name}.parquet`);
    await fs.writeFile(file, data);
    const ref = await store().putFile(file, 'datasets', 'parquet');
    expect(ref).toMatchObject({ sha256: sha256(data), bytes: data.length });
    expect(ref.uri.endsWith('.parquet')).toBe(true);
    await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await store().read(ref)).toEqual(data);
    expect(await fs.readFile(await store().localFile(ref))).toEqual(data);
  });

  it('keeps small named objects: null when absent, replaced whole, keys checked', async () => {
    const key = `checkpoints/${sha256(randomBytes(8))}`;
    expect(await store().getNamed(key)).toBeNull();
    await store().putNamed(key, '{"v":1}');
    expect(await store().getNamed(key)).toBe('{"v":1}');
    await store().putNamed(key, '{"v":2}');
    expect(await store().getNamed(key)).toBe('{"v":2}');
    for (const bad of ['../x', '/abs', 'a//b', 'A', 'x.json', 'a/../b', '', 'checkpoints/']) {
      await expect(store().putNamed(bad, 'x')).rejects.toThrow('bad named object key');
      await expect(store().getNamed(bad)).rejects.toThrow('bad named object key');
    }
  });

  it('refuses refs outside the store before touching anything', async () => {
    for (const uri of b().foreign) {
      const ref: ArtifactRef = { uri, sha256: '0'.repeat(64), bytes: 1 };
      await expect(store().read(ref), uri).rejects.toThrow(/outside the artifact store|not an? (file|s3):\/\/ URI of this store/);
      expect(() => store().readStream(ref), uri).toThrow(/outside the artifact store|not an? (file|s3):\/\/ URI of this store/);
      await expect(store().exists(ref), uri).rejects.toThrow(/outside the artifact store|URI of this store/);
      await expect(store().localFile(ref), uri).rejects.toThrow(/outside the artifact store|URI of this store/);
      await expect(store().delete(ref), uri).rejects.toThrow(/outside the artifact store|URI of this store/);
    }
  });
});

describe('S3ArtifactStore specifics', () => {
  const s3 = () => backends.find((x) => x.name === 'S3ArtifactStore')!.store as S3ArtifactStore;

  it('uploads a large file in parts, completes it only whole, and leaves no unfinished upload', async () => {
    const data = randomBytes(12 * 2 ** 20 + 3);
    const ref = await s3().putBytes(data, 'datasets', 'parquet');
    expect(ref.sha256).toBe(sha256(data));
    expect((await s3().read(ref)).equals(data)).toBe(true);
    expect(await backends[1].leftovers()).toEqual([]);
  });

  it('serves localFile() from its cache once downloaded (even if the object goes), and downloads again when the cache is gone', async () => {
    const data = `cached ${randomBytes(8).toString('hex')}`;
    const ref = await s3().putBytes(data, 'models', 'onnx');
    const cacheDir = path.join(dir, 's3-cache');
    await fs.rm(path.join(cacheDir, ref.sha256.slice(0, 2)), { recursive: true, force: true });
    const file = await s3().localFile(ref);
    expect(file.startsWith(cacheDir + path.sep)).toBe(true);
    await backends[1].remove(ref);
    expect(await s3().localFile(ref)).toBe(file); // from the cache: no request
    await fs.rm(file);
    await expect(s3().localFile(ref)).rejects.toThrow(/NoSuchKey|not exist/);
  });

  it('lays keys out as <prefix>/<kind>/<sha[0:2]>/<sha>.<ext> and named objects under <prefix>/named/', async () => {
    const ref = await s3().putBytes(`layout ${randomBytes(4).toString('hex')}`, 'reports', 'html');
    await s3().putNamed('checkpoints/layout-test', 'x');
    const listed = await adminS3().send(new ListObjectsV2Command({ Bucket: s3().bucket, Prefix: 'lake/artifacts/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key);
    expect(keys).toContain(`lake/artifacts/reports/${ref.sha256.slice(0, 2)}/${ref.sha256}.html`);
    expect(keys).toContain('lake/artifacts/named/checkpoints/layout-test');
    expect(ref.uri).toBe(`s3://${s3().bucket}/lake/artifacts/reports/${ref.sha256.slice(0, 2)}/${ref.sha256}.html`);
  });

  it('is what createArtifactStore builds for ARTIFACT_STORE=s3://bucket/prefix; the local store otherwise', async () => {
    const bucket = await createTestBucket('factory');
    const config = loadConfig({ DATA_DIR: path.join(dir, 'factory'), ARTIFACT_STORE: `s3://${bucket}/team/a/`, ...testS3Env() });
    const store = createArtifactStore(config);
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.location).toBe(`s3://${bucket}/team/a`);
    const ref = await store.putBytes('via the factory', 'models', 'onnx');
    expect((await store.read(ref)).toString()).toBe('via the factory');
    const local = createArtifactStore(loadConfig({ DATA_DIR: path.join(dir, 'factory') }));
    expect(local).toBeInstanceOf(LocalArtifactStore);
    expect(fileURLToPath(local.location)).toBe(path.join(dir, 'factory', 'artifacts'));
  });

  it('names the store, the endpoint and the S3 error when the credentials are wrong, never the secret', async () => {
    const secret = 'wrong-secret-0123456789';
    const store = new S3ArtifactStore({
      client: createS3Client(testS3Settings({ secretAccessKey: secret })),
      bucket: s3().bucket,
      prefix: 'lake/artifacts',
      cacheDir: path.join(dir, 'wrong-cache'),
      endpoint: testS3Settings().endpoint!,
    });
    const err = await store.putBytes('x', 'models', 'onnx').then(() => null, (e: Error) => e);
    // The first request is a HEAD, whose 403 has no body to name the error: the message says what to check.
    expect(err?.message).toMatch(/^artifact store s3:\/\/.*lake\/artifacts at http:\/\/127\.0\.0\.1:\d+: .*HTTP 403.*check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
    expect(err?.message).not.toContain(secret);
    expect((err as { retryable?: boolean }).retryable).toBe(false);
  });
});
