import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { inject } from 'vitest';
import { createS3Client, type S3Settings } from '../../src/data/s3';

/** The run's MinIO (started by test/globalSetup.ts) as S3 settings, with its root credentials. */
export function testS3Settings(overrides: Partial<S3Settings> = {}): S3Settings {
  return {
    endpoint: inject('s3Endpoint'),
    region: 'us-east-1',
    accessKeyId: inject('s3AccessKeyId'),
    secretAccessKey: inject('s3SecretAccessKey'),
    forcePathStyle: true,
    anonymous: false,
    ...overrides,
  };
}

/** The S3_* variables loadConfig reads, for the run's MinIO. */
export function testS3Env(): Record<string, string> {
  return {
    S3_ENDPOINT: inject('s3Endpoint'),
    S3_REGION: 'us-east-1',
    S3_ACCESS_KEY_ID: inject('s3AccessKeyId'),
    S3_SECRET_ACCESS_KEY: inject('s3SecretAccessKey'),
    S3_FORCE_PATH_STYLE: 'true',
  };
}

let admin: S3Client | undefined;
/** A client with the run's root credentials, for setting up what a test reads. */
export function adminS3(): S3Client {
  return (admin ??= createS3Client(testS3Settings()));
}

/** A fresh, empty bucket of its own for a test (named after `label`, made unique). */
export async function createTestBucket(label = 'test'): Promise<string> {
  const bucket = `${label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomUUID().slice(0, 8)}`.replace(/^-+/, 't');
  await adminS3().send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Puts an object with the root credentials; returns its s3:// URI. */
export async function putTestObject(bucket: string, key: string, body: string | Uint8Array): Promise<string> {
  await adminS3().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }));
  return `s3://${bucket}/${key}`;
}
