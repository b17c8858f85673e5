import { describe, it, expect } from 'vitest';
import { DecisionSignal, Duration, LifecycleInput, durationMs, formatZodError } from '../../src/schemas/lifecycle';

const base = {
  modelName: 'used-cars',
  datasetUri: 'data/cars.csv',
  target: 'price',
  features: ['km', 'fuel'],
  approvers: ['bob'],
};

function issues(input: unknown) {
  const r = LifecycleInput.safeParse(input);
  if (r.success) throw new Error('expected the input to be refused');
  return { issues: r.error.issues, text: formatZodError(r.error) };
}

describe('LifecycleInput', () => {
  it('fills in defaults', () => {
    expect(LifecycleInput.parse(base)).toEqual({
      ...base,
      trainer: { name: 'ridge', params: { alpha: 1, maxCategories: 50, minCategoryCount: 1 } },
      evaluation: { primaryMetric: 'rmse', mustBeatBaseline: true, minImprovementOverChampion: 0, holdoutFraction: 0.2, seed: 42 },
      data: {
        format: 'auto',
        encoding: 'utf-8',
        missingTarget: 'drop',
        maxMissingTargetShare: 0.5,
        badFeature: 'error',
        minRows: 10,
        maxMissingShare: 0.5,
        warnMissingShare: 0.05,
        numericShare: 0.95,
        maxDistinctCategories: 100,
        skewWarningPsi: 0.1,
        skewErrorPsi: null,
        skewWarningJs: 0.1,
        skewErrorJs: null,
      },
      approvalTimeout: '7d',
      approvalReminderEvery: '1d',
      trigger: 'manual',
      release: { strategy: 'direct' },
      requestedBy: 'unknown',
    });
  });

  it('refuses data settings out of range, naming the field', () => {
    const parsed = LifecycleInput.safeParse({ ...base, data: { maxMissingShare: 1.5, warnMissingShare: 0.9, missingTarget: 'ignore', surprise: 1 } });
    expect(parsed.success).toBe(false);
    const message = formatZodError(parsed.error!);
    expect(message).toContain('data.maxMissingShare');
    expect(message).toContain('data.missingTarget');
    expect(message).toMatch(/data: .*surprise|surprise/);
    expect(LifecycleInput.safeParse({ ...base, data: { maxMissingShare: 0.3, warnMissingShare: 0.4 } }).error?.issues[0].path).toEqual(['data', 'warnMissingShare']);
  });

  it('keeps given values and fills the rest of partial nested objects', () => {
    const out = LifecycleInput.parse({
      ...base,
      trainer: { name: 'ridge', params: { alpha: 0.5 } },
      evaluation: { primaryMetric: 'r2', seed: 7 },
      approvalTimeout: '30m',
      requestedBy: 'alice@example.com',
    });
    expect(out.trainer.params).toEqual({ alpha: 0.5, maxCategories: 50, minCategoryCount: 1 });
    expect(out.evaluation).toMatchObject({ primaryMetric: 'r2', seed: 7, mustBeatBaseline: true, holdoutFraction: 0.2 });
    expect(out.approvalTimeout).toBe('30m');
    expect(out.requestedBy).toBe('alice@example.com');
  });

  it('refuses the target listed among the features, on path "features"', () => {
    const { issues: list, text } = issues({ ...base, features: ['km', 'price'] });
    expect(list).toHaveLength(1);
    expect(list[0].path).toEqual(['features']);
    expect(text).toBe('features: must not contain the target column "price"');
  });

  it('refuses a duplicate feature at the index of the repeat', () => {
    const { issues: list, text } = issues({ ...base, features: ['km', 'fuel', 'km'] });
    expect(list).toHaveLength(1);
    expect(list[0].path).toEqual(['features', 2]);
    expect(text).toBe('features.2: "km" is listed twice');
  });

  it('refuses an empty feature list', () => {
    const { text } = issues({ ...base, features: [] });
    expect(text).toBe('features: must list at least one feature column');
  });

  it.each(['', '-cars', '.cars', 'used cars', 'cars/v1', 'a'.repeat(64), 'café'])('refuses the model name %j', (modelName) => {
    const { issues: list, text } = issues({ ...base, modelName });
    expect(list[0].path).toEqual(['modelName']);
    expect(text).toContain('modelName: must be 1-63 letters');
  });

  it.each(['a', 'A1', 'used_cars.v2-b', 'a'.repeat(63)])('accepts the model name %j', (modelName) => {
    expect(LifecycleInput.parse({ ...base, modelName }).modelName).toBe(modelName);
  });

  it.each(['7', '7 days', '1w', 'd7', '-5m', '1.5.2h', ''])('refuses the duration %j', (approvalTimeout) => {
    const { text } = issues({ ...base, approvalTimeout });
    expect(text).toContain('approvalTimeout: must be a duration');
  });

  it.each(['90s', '30m', '7d', '1.5h', '250ms'])('accepts the duration %j', (d) => {
    expect(Duration.parse(d)).toBe(d);
  });

  it.each(['99999999999999d', '367d', '0s', '0ms'])('refuses the out-of-range duration %j (it once broke every workflow task)', (d) => {
    expect(Duration.safeParse(d).success).toBe(false);
    expect(issues({ ...base, approvalTimeout: d }).text).toMatch(/approvalTimeout: must be (between 1ms and 366d|a duration)/);
  });

  it('needs an approval timeout of at least a second', () => {
    expect(issues({ ...base, approvalTimeout: '500ms' }).text).toContain('approvalTimeout: must be at least 1s');
    expect(durationMs('1.5h')).toBe(5_400_000);
  });

  it('bounds lists and strings, so an input can never outgrow a workflow payload', () => {
    const features = Array.from({ length: 12_000 }, (_, i) => `feature_${i}`);
    expect(issues({ ...base, features }).text).toContain('features: must list at most 1000 feature columns');
    expect(issues({ ...base, target: 'x'.repeat(257) }).text).toContain('target: must be at most 256 characters');
    expect(issues({ ...base, features: ['y'.repeat(300)] }).text).toContain('features.0: must be at most 256 characters');
    expect(issues({ ...base, approvers: Array.from({ length: 21 }, (_, i) => `a${i}`) }).text).toContain('approvers: must name at most 20 approvers');
    expect(issues({ ...base, datasetUri: `/data/${'x'.repeat(3000)}.csv` }).text).toContain('datasetUri: must be at most 2048 characters');
    expect(issues({ ...base, requesterProof: 'p'.repeat(129) }).text).toContain('requesterProof: ');
    expect(issues({ ...base, trainer: { name: 'ridge', params: { alpha: 1e300 } } }).text).toContain('trainer.params.alpha: ');
    // the largest valid input stays far below Temporal's 2 MB payload limit
    const largest = LifecycleInput.parse({ ...base, features: features.slice(0, 1000).map((f) => f.padEnd(256, 'x')), approvers: Array.from({ length: 20 }, (_, i) => `approver-${i}`.padEnd(128, 'x')) });
    expect(JSON.stringify(largest).length).toBeLessThan(300_000);
  });

  it('refuses an unknown top-level key, naming it', () => {
    const { issues: list, text } = issues({ ...base, learningRate: 0.1 });
    expect(list[0].code).toBe('unrecognized_keys');
    expect(text).toContain('learningRate');
    expect(text.startsWith('(input): ')).toBe(true);
  });

  it('refuses an unknown key in evaluation and in trainer params, with their paths', () => {
    expect(issues({ ...base, evaluation: { bogus: 1 } }).text).toMatch(/^evaluation: .*bogus/);
    expect(issues({ ...base, trainer: { name: 'ridge', params: { depth: 3 } } }).text).toMatch(/^trainer\.params: .*depth/);
  });

  it('refuses an unknown trainer name', () => {
    const { issues: list } = issues({ ...base, trainer: { name: 'xgboost' } });
    expect(list[0].path).toEqual(['trainer', 'name']);
  });

  it('range-checks evaluation numbers', () => {
    expect(issues({ ...base, evaluation: { holdoutFraction: 1 } }).text).toMatch(/^evaluation\.holdoutFraction: /);
    expect(issues({ ...base, evaluation: { holdoutFraction: 0 } }).text).toMatch(/^evaluation\.holdoutFraction: /);
    expect(issues({ ...base, evaluation: { minImprovementOverChampion: -0.1 } }).text).toMatch(/^evaluation\.minImprovementOverChampion: /);
    expect(issues({ ...base, evaluation: { seed: 1.5 } }).text).toMatch(/^evaluation\.seed: /);
    expect(issues({ ...base, trainer: { name: 'ridge', params: { alpha: -1 } } }).text).toMatch(/^trainer\.params\.alpha: /);
  });

  it('requires at least one valid approver', () => {
    expect(issues({ ...base, approvers: [] }).text).toBe('approvers: must name at least one approver');
    expect(issues({ ...base, approvers: ['bob', 'not valid'] }).text).toBe('approvers.1: must be a user or service name');
  });

  it('formatZodError lists every problem, one per field, joined by "; "', () => {
    const { text } = issues({ ...base, modelName: '-x', approvalTimeout: '1w', datasetUri: '' });
    const parts = text.split('; ');
    expect(parts).toHaveLength(3);
    expect(parts.some((p) => p.startsWith('modelName: '))).toBe(true);
    expect(parts.some((p) => p.startsWith('approvalTimeout: '))).toBe(true);
    expect(parts).toContain('datasetUri: must name a dataset: a path, a file:// or s3:// URI, or a glob such as s3://bucket/sales/2026-11-*.parquet');
  });

  it('names missing required fields', () => {
    const { text } = issues({ modelName: 'cars' });
    for (const field of ['datasetUri', 'target', 'features', 'approvers']) expect(text).toContain(`${field}: `);
  });
});

describe('DecisionSignal', () => {
  it('parses a full signal and defaults the comment to ""', () => {
    expect(DecisionSignal.parse({ approver: 'bob', token: 'abc' })).toEqual({ approver: 'bob', comment: '', token: 'abc' });
  });

  it('requires a token: absent and empty are refused on path "token"', () => {
    const absent = DecisionSignal.safeParse({ approver: 'bob' });
    expect(absent.success).toBe(false);
    if (!absent.success) expect(absent.error.issues[0].path).toEqual(['token']);
    const empty = DecisionSignal.safeParse({ approver: 'bob', token: '' });
    expect(empty.success).toBe(false);
    if (!empty.success) expect(formatZodError(empty.error)).toContain('token: is required');
  });

  it('refuses unknown keys, a bad approver name and an over-long comment', () => {
    expect(DecisionSignal.safeParse({ approver: 'bob', token: 't', extra: 1 }).success).toBe(false);
    expect(DecisionSignal.safeParse({ approver: 'bob smith', token: 't' }).success).toBe(false);
    expect(DecisionSignal.safeParse({ approver: 'bob', token: 't', comment: 'x'.repeat(2001) }).success).toBe(false);
    expect(DecisionSignal.safeParse({ approver: 'bob', token: 't', comment: 'x'.repeat(2000) }).success).toBe(true);
  });
});

describe('RetrainInput', () => {
  it('checks its lifecycle template like a lifecycle input: the target is not a feature', async () => {
    const { RetrainInput } = await import('../../src/schemas/monitoring');
    const parsed = RetrainInput.safeParse({ modelName: 'cars', trigger: 'schedule', lifecycle: { datasetUri: 'x.csv', target: 'price', features: ['price', 'km', 'km'], approvers: ['alice'] } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'lifecycle.features: must not contain the target column "price"',
      'lifecycle.features.2: "km" is listed twice',
    ]);
  });
});
