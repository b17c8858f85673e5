import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseTokenSpec } from '../../src/auth/apiTokens';
import { LocalArtifactStore } from '../../src/artifacts/store';
import { loadConfig } from '../../src/config';
import { scanCsv } from '../../src/data/csv';
import { decideGate } from '../../src/domain/gate';
import { DecisionSignal, formatZodError } from '../../src/schemas/lifecycle';

// Behaviours found wrong in review, each pinned by a test.
describe('fixed in review', () => {
  it('a missing artifact file fails the read instead of crashing the process', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-store-'));
    const store = new LocalArtifactStore(root);
    const ref = await store.putBytes('a,b\n1,2\n', 'datasets', 'csv');
    await fs.rm(store.localPath(ref));
    await expect(scanCsv(store.readStream(ref))).rejects.toThrow(/ENOENT/);
    await fs.rm(root, { recursive: true, force: true });
  });

  it('an improvement of exactly the required share over the champion passes the gate', () => {
    const metrics = (rmse: number) => ({ rmse, mae: rmse, r2: 0.5, n: 10 });
    const decision = decideGate(
      { primaryMetric: 'rmse', mustBeatBaseline: false, minImprovementOverChampion: 0.01 },
      { candidate: metrics(9.9), baseline: metrics(20), champion: { version: 1, metrics: metrics(10) } },
    );
    expect(decision.blessed).toBe(true);
  });

  it('treats empty variables as unset and ignores empty INGEST_ROOTS entries', () => {
    const config = loadConfig({ API_PORT: '', INGEST_ROOTS: '/data,', DATA_DIR: '/tmp/x' });
    expect(config.API_PORT).toBe(3000);
    expect(config.ingest.roots).toEqual(['/data']);
  });

  it('refuses API_TOKENS with a shared token or a repeated identity', () => {
    expect(() => parseTokenSpec('a:viewer:same-token-123456789,b:viewer:same-token-123456789')).toThrow(/entry 2 \(b\): token is already used/);
    expect(() => parseTokenSpec('a:viewer:token-one-123456789,a:admin:token-two-123456789')).toThrow(/identity "a" is listed twice/);
  });

  it('says how to get a token when a decision signal has none', () => {
    const parsed = DecisionSignal.safeParse({ approver: 'alice' });
    expect(parsed.success).toBe(false);
    expect(formatZodError(parsed.error!)).toBe('token: is required: get one with `lifecycle approval-token <run>`');
  });
});
