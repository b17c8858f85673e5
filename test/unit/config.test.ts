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
    expect(c.ingest).toEqual({ roots: [process.cwd(), path.resolve('.data', 'datasets')], protectedDirs: [path.resolve('.data')] });
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
});
