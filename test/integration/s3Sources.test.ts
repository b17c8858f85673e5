import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, PutBucketPolicyCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createS3Client, type S3Settings } from '../../src/data/s3';
import { resolveSource, SourceError, type SourcePart, type SourcePolicy } from '../../src/data/source';
import { freePort } from '../../src/infra/net';
import { startMinio, type MinioHandle } from '../../src/infra/minio';
import { adminS3, createTestBucket, putTestObject, testS3Settings } from '../support/s3';

async function text(part: SourcePart): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await part.open()) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** The SourceError a promise (or a stream read) fails with. */
async function sourceError(p: Promise<unknown>): Promise<SourceError> {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(SourceError);
  return err as SourceError;
}

const policy = (overrides: Partial<SourcePolicy> = {}): SourcePolicy => ({ roots: [], protectedDirs: [], s3: testS3Settings(), ...overrides });
let bucket: string;

beforeAll(async () => {
  bucket = await createTestBucket('sources');
  for (const [key, body] of [
    ['sales/2026-10-31.csv', 'day,amount\n31,1\n'],
    ['sales/2026-11-02.csv', 'day,amount\n2,20\n'],
    ['sales/2026-11-01.csv', 'day,amount\n1,10\n'],
    ['sales/2026-11-10.csv', 'day,amount\n10,100\n'],
    ['sales/2026-11-01.parquet', 'PAR1'],
    ['sales/archive/2026-11-01.csv', 'day,amount\n1,0\n'],
    ['sales/_SUCCESS', ''],
    ['sales/.staging/2026-11-03.csv', 'partial'],
    ['sales/folder/', ''],
    ['artifacts/models/ab/model.onnx', 'onnx bytes'],
    ['incoming/cars.csv', 'make,price\nDacia,1\n'],
  ] as const) {
    await putTestObject(bucket, key, body);
  }
});

describe('resolveSource: s3:// URIs against a real MinIO', () => {
  it('one object: its size and ETag, and its bytes', async () => {
    const [part, ...rest] = await resolveSource(`s3://${bucket}/sales/2026-11-01.csv`, policy());
    expect(rest).toEqual([]);
    expect(part).toMatchObject({ uri: `s3://${bucket}/sales/2026-11-01.csv`, size: 16 });
    expect(part.version).toMatch(/^"[0-9a-f-]+"$/);
    expect(await text(part)).toBe('day,amount\n1,10\n');
  });

  it('a prefix ending in "/": every object under it, nested too, sorted by key, without markers and hidden names', async () => {
    const parts = await resolveSource(`s3://${bucket}/sales/`, policy());
    expect(parts.map((p) => p.uri.slice(`s3://${bucket}/`.length))).toEqual([
      'sales/2026-10-31.csv',
      'sales/2026-11-01.csv',
      'sales/2026-11-01.parquet',
      'sales/2026-11-02.csv',
      'sales/2026-11-10.csv',
      'sales/archive/2026-11-01.csv',
    ]);
  });

  it('a glob: the matching keys of that level, sorted, so "the latest data" reads in date order', async () => {
    const parts = await resolveSource(`s3://${bucket}/sales/2026-11-*.csv`, policy());
    expect(parts.map((p) => p.uri)).toEqual([`s3://${bucket}/sales/2026-11-01.csv`, `s3://${bucket}/sales/2026-11-02.csv`, `s3://${bucket}/sales/2026-11-10.csv`]);
    expect(await Promise.all(parts.map(text))).toEqual(['day,amount\n1,10\n', 'day,amount\n2,20\n', 'day,amount\n10,100\n']);
    expect((await resolveSource(`s3://${bucket}/sales/**/2026-11-01.csv`, policy())).map((p) => p.uri)).toEqual([
      `s3://${bucket}/sales/2026-11-01.csv`,
      `s3://${bucket}/sales/archive/2026-11-01.csv`,
    ]);
    expect((await resolveSource(`s3://${bucket}/sales/2026-11-0?.{csv,parquet}`, policy())).length).toBe(3);
  });

  it('nothing matching is a clear, final error naming the URI', async () => {
    for (const uri of [`s3://${bucket}/sales/2027-*.csv`, `s3://${bucket}/nothing-here/`, `s3://${bucket}/sales/2026-12-01.csv`]) {
      const err = await sourceError(resolveSource(uri, policy()));
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(`no objects match "${uri}"`);
    }
    const missingBucket = await sourceError(resolveSource('s3://no-such-bucket-here/x.csv', policy()));
    expect(missingBucket).toMatchObject({ retryable: false, message: expect.stringMatching(/no such bucket/) });
    expect((await sourceError(resolveSource('s3://no-such-bucket-here/x/', policy()))).message).toMatch(/no such bucket/);
  });

  it('wrong credentials: final, naming the endpoint and the settings to check, never the secret', async () => {
    const secret = `wrong-${randomBytes(12).toString('hex')}`;
    const endpoint = inject('s3Endpoint');
    for (const [settings, uri, code] of [
      [testS3Settings({ secretAccessKey: secret }), `s3://${bucket}/sales/`, 'SignatureDoesNotMatch'],
      [testS3Settings({ accessKeyId: 'nobody-we-know', secretAccessKey: secret }), `s3://${bucket}/sales/*.csv`, 'InvalidAccessKeyId'],
      [testS3Settings({ secretAccessKey: secret }), `s3://${bucket}/sales/2026-11-01.csv`, 'HTTP 403'],
    ] as const) {
      const err = await sourceError(resolveSource(uri, policy({ s3: settings })));
      expect(err.retryable).toBe(false);
      expect(err.message).toContain(endpoint);
      expect(err.message).toContain(code);
      expect(err.message).toMatch(/S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
      expect(err.message).not.toContain(secret);
    }
  });

  it('a bucket outside INGEST_S3_BUCKETS is refused before any request', async () => {
    // The endpoint answers nothing: a request would fail as a (retryable) network error instead.
    const unreachable = testS3Settings({ endpoint: `http://127.0.0.1:${await freePort()}` });
    const err = await sourceError(resolveSource(`s3://${bucket}/sales/`, policy({ s3: unreachable, s3Buckets: ['raw-data', 'lake'] })));
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/in a bucket datasets may not be read from \(allowed: raw-data, lake\); see INGEST_S3_BUCKETS/);
    expect(await resolveSource(`s3://${bucket}/incoming/cars.csv`, policy({ s3Buckets: [bucket] }))).toHaveLength(1);
  });

  it("never reads the artifact store's own bucket and prefix, by key, prefix or pattern", async () => {
    const guarded = policy({ protectedS3: [{ bucket, prefix: 'artifacts' }] });
    for (const uri of [`s3://${bucket}/artifacts/models/ab/model.onnx`, `s3://${bucket}/artifacts/`, `s3://${bucket}/artifacts/**`, `s3://${bucket}/**/*.onnx`, `s3://${bucket}/art*/**`]) {
      const err = await sourceError(resolveSource(uri, guarded));
      expect(err.retryable, uri).toBe(false);
      expect(err.message, uri).toMatch(/is in the artifact store \(ARTIFACT_STORE\)/);
    }
    // The rest of the bucket stays readable.
    expect(await resolveSource(`s3://${bucket}/incoming/cars.csv`, guarded)).toHaveLength(1);
    expect((await resolveSource(`s3://${bucket}/sales/*.csv`, guarded)).length).toBe(4);
    // A store at the bucket's root protects all of it.
    await sourceError(resolveSource(`s3://${bucket}/incoming/cars.csv`, policy({ protectedS3: [{ bucket, prefix: '' }] })));
  });

  it('refuses malformed URIs before any request: no key, "." or ".." segments, bad bucket names, negations, no S3 settings', async () => {
    const unreachable = testS3Settings({ endpoint: `http://127.0.0.1:${await freePort()}` });
    for (const [uri, message] of [
      [`s3://${bucket}`, 'names a bucket but no object'],
      [`s3://${bucket}/`, 'names a bucket but no object'],
      [`s3://${bucket}/sales/../artifacts/x`, '".." segment'],
      [`s3://${bucket}/./sales/x.csv`, '".." segment'],
      ['s3://Bad_Bucket/x.csv', 'names no valid S3 bucket'],
      ['s3://ab/x.csv', 'names no valid S3 bucket'],
      [`s3://${bucket}/!(sales)/*.csv`, 'negated patterns'],
    ] as const) {
      const err = await sourceError(resolveSource(uri, policy({ s3: unreachable })));
      expect(err.retryable, uri).toBe(false);
      expect(err.message, uri).toContain(message);
    }
    expect((await sourceError(resolveSource(`s3://${bucket}/x.csv`, { roots: [], protectedDirs: [] }))).message).toMatch(/needs the S3 settings/);
  });

  it('caps the number of parts with a clear error', async () => {
    const err = await sourceError(resolveSource(`s3://${bucket}/sales/`, policy({ maxParts: 3 })));
    expect(err).toMatchObject({ retryable: false, message: expect.stringContaining('matches more than 3 objects: narrow the prefix or the pattern') });
  });

  it('an unreachable endpoint is retryable and named', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const err = await sourceError(resolveSource(`s3://${bucket}/sales/`, policy({ s3: testS3Settings({ endpoint }) })));
    expect(err.retryable).toBe(true);
    expect(err.message).toContain(endpoint);
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('an object replaced or deleted after it was listed fails the read as retryable (If-Match on the ETag)', async () => {
    const key = `changing/${randomBytes(4).toString('hex')}.csv`;
    const uri = await putTestObject(bucket, key, 'a,b\n1,2\n');
    const [part] = await resolveSource(uri, policy());
    await adminS3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'a,b\n3,4\n' })); // same size, new ETag
    const changed = await sourceError(part.open());
    expect(changed.retryable).toBe(true);
    expect(changed.message).toMatch(/changed after it was listed/);
    const [again] = await resolveSource(uri, policy());
    expect(await text(again)).toBe('a,b\n3,4\n');
    await adminS3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(await sourceError(again.open())).toMatchObject({ retryable: true, message: expect.stringMatching(/deleted after it was listed/) });
  });

  it('reads a public bucket with unsigned requests (S3_ANONYMOUS)', async () => {
    const open = await createTestBucket('public');
    await putTestObject(open, 'data/cars.csv', 'make,price\nDacia,1\n');
    await adminS3().send(
      new PutBucketPolicyCommand({
        Bucket: open,
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: ['*'] }, Action: ['s3:GetObject', 's3:ListBucket'], Resource: [`arn:aws:s3:::${open}`, `arn:aws:s3:::${open}/*`] }],
        }),
      }),
    );
    const anonymous: S3Settings = testS3Settings({ accessKeyId: null, secretAccessKey: null, anonymous: true });
    const parts = await resolveSource(`s3://${open}/data/`, policy({ s3: anonymous }));
    expect(await text(parts[0])).toBe('make,price\nDacia,1\n');
    // Unsigned requests to a private bucket are denied: final, and the message says what to check.
    const denied = await sourceError(resolveSource(`s3://${bucket}/sales/`, policy({ s3: anonymous })));
    expect(denied).toMatchObject({ retryable: false, message: expect.stringMatching(/denied access.*S3_ANONYMOUS/) });
  });
});

describe('a read that breaks mid-stream', () => {
  let dir: string;
  let minio: MinioHandle;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-minio-kill-'));
    minio = await startMinio({ binary: inject('minioBin'), dataDir: path.join(dir, 'data') });
  });
  afterAll(async () => {
    await minio?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('surfaces as a retryable SourceError on the stream when the server dies during the read', async () => {
    const settings = testS3Settings({ endpoint: minio.endpoint, accessKeyId: minio.accessKeyId, secretAccessKey: minio.secretAccessKey });
    const client = createS3Client(settings);
    await client.send(new CreateBucketCommand({ Bucket: 'doomed' }));
    const size = 64 * 2 ** 20;
    await client.send(new PutObjectCommand({ Bucket: 'doomed', Key: 'big.csv', Body: randomBytes(size) }));
    const [part] = await resolveSource('s3://doomed/big.csv', policy({ s3: settings }));
    expect(part.size).toBe(size);

    const stream = await part.open();
    let received = 0;
    const failure = new Promise<unknown>((resolve) => {
      stream.on('error', resolve);
      stream.on('end', () => resolve(null));
    });
    let killed = false;
    stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (!killed) {
        killed = true;
        stream.pause();
        void minio.kill().then(() => stream.resume());
      }
    });
    const err = await failure;
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(true);
    expect((err as SourceError).message).toMatch(/reading "s3:\/\/doomed\/big\.csv" failed: (the read broke off|it ended) after \d+ of 67108864 bytes/);
    expect(received).toBeLessThan(size);
  });
});
