import { describe, expect, it } from 'vitest';
import { judgeCanary, judgeShadow, type ServedStats } from '../../src/domain/release';
import { LifecycleInput, type CanaryPolicy, type ShadowPolicy } from '../../src/schemas/lifecycle';

const base = { modelName: 'cars', datasetUri: 'x.csv', target: 'price', features: ['km'], approvers: ['alice'] };
const canaryPolicy = (extra: Record<string, unknown> = {}) => LifecycleInput.parse({ ...base, release: { strategy: 'canary', ...extra } }).release as CanaryPolicy;
const shadowPolicy = (extra: Record<string, unknown> = {}) => LifecycleInput.parse({ ...base, release: { strategy: 'shadow', ...extra } }).release as ShadowPolicy;
const served = (version: number, requests: number, errors: number, p99Ms: number | null): ServedStats => ({ version, requests, errors, p50Ms: p99Ms && p99Ms / 3, p99Ms });
const AT = '2026-11-26T12:00:00.000Z';

describe('judgeCanary', () => {
  it('waits until the canary has served minRequests, whatever its errors', () => {
    const check = judgeCanary(canaryPolicy({ minRequests: 50 }), served(2, 49, 49, null), served(1, 400, 0, 3), AT);
    expect(check.verdict).toBe('waiting');
    expect(check.reasons).toEqual(['the canary v2 has served 49 of the 50 requests needed to judge it']);
  });

  it('fails on an error rate above the champion\'s plus the allowed increase, and says both rates', () => {
    const policy = canaryPolicy({ minRequests: 10, maxErrorRateIncrease: 0.01 });
    // 2% vs 0.5%: above 0.5% + 1%.
    const failing = judgeCanary(policy, served(2, 100, 2, 3), served(1, 1000, 5, 3), AT);
    expect(failing.verdict).toBe('failing');
    expect(failing.reasons[0]).toBe("errors rose: error rate 2.00% (2 of 100 requests) vs the champion v1's 0.50% (5 of 1000); allowed up to 1.50%");
    // 1% vs 0.5%: within.
    expect(judgeCanary(policy, served(2, 100, 1, 3), served(1, 1000, 5, 3), AT).verdict).toBe('healthy');
  });

  it('fails on p99 latency beyond both the ratio and the slack, not on noise at small latencies', () => {
    const policy = canaryPolicy({ minRequests: 10, maxLatencyRatio: 1.5, latencySlackMs: 2 });
    // 0.9 ms vs 0.4 ms is 2.25x, but within the 2 ms slack.
    expect(judgeCanary(policy, served(2, 1000, 0, 0.9), served(1, 1000, 0, 0.4), AT).verdict).toBe('healthy');
    const slow = judgeCanary(policy, served(2, 1000, 0, 16), served(1, 1000, 0, 10), AT);
    // With fewer than 1,000 answered requests a side, the p99 is one of a few slow requests: not judged.
    const few = judgeCanary(policy, served(2, 1000, 1, 16), served(1, 5000, 0, 10), AT);
    expect(few.verdict).toBe('healthy');
    expect(few.reasons[1]).toBe('latency not judged: a p99 needs at least 1,000 answered requests a side (canary 999, champion 5000)');
    expect(slow.verdict).toBe('failing');
    expect(slow.reasons[1]).toBe("latency rose: p99 latency 16.00 ms vs the champion's 10.00 ms; allowed up to 15.00 ms");
  });

  it('does not judge latency without successful requests on both sides, and says so', () => {
    const check = judgeCanary(canaryPolicy({ minRequests: 10 }), served(2, 10, 10, null), served(1, 1000, 0, 3), AT);
    expect(check.verdict).toBe('failing');
    expect(check.reasons[1]).toMatch(/latency not judged: a p99 needs at least 1,000 answered requests a side \(canary 0, champion 1000\)/);
  });
});

describe('judgeShadow', () => {
  const ids = { championVersion: 1, candidateVersion: 2, since: AT, until: AT };
  const stats = { compared: 200, shadowRequests: 200, shadowErrors: 0, meanAbsoluteDifference: 120.5, maxAbsoluteDifference: 900, meanRelativeDifference: 0.04, withinTolerance: 190 };

  it('reports the agreement for the approver without refusing when no minAgreement is set', () => {
    const report = judgeShadow(shadowPolicy({ minRequests: 100, tolerance: 0.1 }), stats, ids);
    expect(report).toMatchObject({ agreement: 0.95, verdict: 'measured' });
    expect(report.summary).toBe('v2 agreed with v1 within 10.0% on 95.0% of 200 predictions (mean absolute difference 120.5, mean relative 4.00%)');
  });

  it('refuses below minAgreement, or with shadow errors', () => {
    expect(judgeShadow(shadowPolicy({ minRequests: 100, minAgreement: 0.97 }), stats, ids).verdict).toBe('disagrees');
    expect(judgeShadow(shadowPolicy({ minRequests: 100, minAgreement: 0.9 }), stats, ids).verdict).toBe('agrees');
    const failed = judgeShadow(shadowPolicy({ minRequests: 100, minAgreement: 0.9 }), { ...stats, shadowErrors: 3 }, ids);
    expect(failed.verdict).toBe('disagrees');
    expect(failed.summary).toMatch(/the shadow failed 3 of 200 requests; needed 90.0% and no errors/);
  });

  it('says when too little traffic was compared', () => {
    const report = judgeShadow(shadowPolicy({ minRequests: 500 }), stats, ids);
    expect(report.verdict).toBe('too-little-traffic');
    expect(report.summary).toMatch(/compared on 200 predictions, fewer than the 500 needed/);
    expect(judgeShadow(shadowPolicy(), { ...stats, compared: 0, withinTolerance: 0 }, ids).agreement).toBeNull();
  });
});

describe('release policy input', () => {
  it('bounds the number of canary checks, naming the field', () => {
    const parsed = LifecycleInput.safeParse({ ...base, release: { strategy: 'canary', duration: '2h', checkEvery: '1s' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues[0]).toMatchObject({ path: ['release', 'checkEvery'] });
  });
});
