import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { loadConfig } from '../../src/config';

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected loadConfig to refuse ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('applies defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      DATA_DIR: '.data',
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: 'lifecycle',
      TEMPORAL_PORT: 7233,
      TEMPORAL_UI_PORT: 8233,
      POSTGRES_PORT: 5433,
      API_HOST: '127.0.0.1',
      API_PORT: 3000,
      LOG_LEVEL: 'info',
    });
    expect(c.TEMPORAL_ADDRESS).toBeUndefined();
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.API_TOKENS).toBeUndefined();
    expect(c.APPROVAL_SECRET).toBeUndefined();
    expect(c.dataDir).toBe(path.resolve('.data'));
    expect(c.artifactDir).toBe(path.join(path.resolve('.data'), 'artifacts'));
    expect(c.ingest).toMatchObject({ roots: [process.cwd(), path.resolve('.data', 'datasets')], protectedDirs: [path.resolve('.data')], s3Buckets: null, protectedS3: [] });
    expect(c.artifactStore).toEqual({ kind: 'local', dir: path.join(path.resolve('.data'), 'artifacts') });
    expect(c.s3).toEqual({ endpoint: null, region: 'us-east-1', accessKeyId: null, secretAccessKey: null, forcePathStyle: false, anonymous: false });
    expect(c.ingest.s3).toBe(c.s3); // one settings object: one S3 client for the store and the sources
  });

  it('ignores unrelated environment variables', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/home/x' }).API_PORT).toBe(3000);
  });

  it('coerces numeric ports from strings', () => {
    const c = loadConfig({ API_PORT: '8080', TEMPORAL_PORT: '17233', POSTGRES_PORT: '0' });
    expect(c.API_PORT).toBe(8080);
    expect(c.TEMPORAL_PORT).toBe(17233);
    expect(c.POSTGRES_PORT).toBe(0);
  });

  it.each(['abc', '70000', '65536', '-1', '80.5'])('refuses API_PORT=%j, naming the variable', (value) => {
    const msg = configError({ API_PORT: value });
    expect(msg).toContain('Invalid configuration');
    expect(msg).toContain('API_PORT: ');
  });

  it('accepts the highest port 65535', () => {
    expect(loadConfig({ API_PORT: '65535' }).API_PORT).toBe(65535);
  });

  it('names every invalid variable', () => {
    const msg = configError({ API_PORT: 'x', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
    expect(msg).toContain('API_PORT: ');
    expect(msg).toContain('LOG_LEVEL: ');
    expect(msg).toContain('DATABASE_URL: ');
  });

  it('requires APPROVAL_SECRET to be at least 32 characters', () => {
    expect(configError({ APPROVAL_SECRET: 'x'.repeat(31) })).toContain('APPROVAL_SECRET: must be at least 32 characters');
    expect(loadConfig({ APPROVAL_SECRET: 'x'.repeat(32) }).APPROVAL_SECRET).toHaveLength(32);
  });

  it('derives dataDir and artifactDir from DATA_DIR', () => {
    const c = loadConfig({ DATA_DIR: '/srv/lifecycle' });
    expect(c.dataDir).toBe('/srv/lifecycle');
    expect(c.artifactDir).toBe('/srv/lifecycle/artifacts');
    expect(c.ingest.roots).toEqual([process.cwd(), '/srv/lifecycle/datasets']);
  });

  it('resolves a relative DATA_DIR against the working directory', () => {
    expect(loadConfig({ DATA_DIR: 'var/data' }).dataDir).toBe(path.join(process.cwd(), 'var/data'));
  });

  it('parses INGEST_ROOTS as comma-separated, trimmed, resolved directories replacing the defaults', () => {
    const c = loadConfig({ INGEST_ROOTS: '/data/a, /data/b ,rel/c' });
    expect(c.ingest.roots).toEqual(['/data/a', '/data/b', path.join(process.cwd(), 'rel/c')]);
  });

  it('a single INGEST_ROOTS entry', () => {
    expect(loadConfig({ INGEST_ROOTS: '/only/here' }).ingest.roots).toEqual(['/only/here']);
  });

  it('an empty INGEST_ROOTS falls back to the defaults', () => {
    const c = loadConfig({ INGEST_ROOTS: '', DATA_DIR: '/srv/d' });
    expect(c.ingest.roots).toEqual([process.cwd(), '/srv/d/datasets']);
  });

  it('ARTIFACT_STORE=s3://bucket/prefix selects the S3 store, which datasets may then never be read from', () => {
    const c = loadConfig({ ARTIFACT_STORE: 's3://ml-artifacts/team/a/', S3_ENDPOINT: 'http://127.0.0.1:9000', S3_FORCE_PATH_STYLE: 'true', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' });
    expect(c.artifactStore).toEqual({ kind: 's3', bucket: 'ml-artifacts', prefix: 'team/a' });
    expect(c.ingest.protectedS3).toEqual([{ bucket: 'ml-artifacts', prefix: 'team/a' }]);
    expect(c.s3).toEqual({ endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's', forcePathStyle: true, anonymous: false });
    expect(loadConfig({ ARTIFACT_STORE: 's3://ml-artifacts' }).artifactStore).toEqual({ kind: 's3', bucket: 'ml-artifacts', prefix: '' });
  });

  it.each(['/srv/artifacts', 'file:///srv/artifacts', 's3://', 's3://Bad_Bucket/x', 's3://bucket/a/../b', 'https://bucket.s3.amazonaws.com/x'])('refuses ARTIFACT_STORE=%j', (value) => {
    expect(configError({ ARTIFACT_STORE: value })).toContain('ARTIFACT_STORE: must be an s3://bucket/prefix URI');
  });

  it('reads the S3 flags as booleans and refuses anything else', () => {
    expect(loadConfig({ S3_FORCE_PATH_STYLE: 'true', S3_ANONYMOUS: '1' }).s3).toMatchObject({ forcePathStyle: true, anonymous: true });
    expect(loadConfig({ S3_FORCE_PATH_STYLE: 'false', S3_ANONYMOUS: 'no' }).s3).toMatchObject({ forcePathStyle: false, anonymous: false });
    expect(configError({ S3_FORCE_PATH_STYLE: 'sometimes' })).toContain('S3_FORCE_PATH_STYLE: must be true or false');
    expect(configError({ S3_ENDPOINT: 'not a url' })).toContain('S3_ENDPOINT: ');
  });

  it('wants both S3 keys or neither, no keys with S3_ANONYMOUS, and no anonymous artifact store, never echoing the secret', () => {
    expect(configError({ S3_SECRET_ACCESS_KEY: 'sekret-value-1' })).toContain('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY: set both or neither');
    expect(configError({ S3_ACCESS_KEY_ID: 'k' })).toContain('set both or neither');
    expect(configError({ S3_ANONYMOUS: 'true', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 'sekret-value-2' })).toContain('S3_ANONYMOUS: ');
    expect(configError({ S3_ANONYMOUS: 'true', ARTIFACT_STORE: 's3://b-ucket/x' })).toContain('the artifact store (ARTIFACT_STORE) needs credentials');
    expect(configError({ S3_SECRET_ACCESS_KEY: 'sekret-value-1' })).not.toContain('sekret');
  });

  it('parses INGEST_S3_BUCKETS as a comma-separated allowlist of bucket names', () => {
    expect(loadConfig({ INGEST_S3_BUCKETS: 'raw-data, lake ' }).ingest.s3Buckets).toEqual(['raw-data', 'lake']);
    expect(configError({ INGEST_S3_BUCKETS: 'ok-bucket,Not_A_Bucket' })).toContain('INGEST_S3_BUCKETS: not bucket names: "Not_A_Bucket"');
  });
});
