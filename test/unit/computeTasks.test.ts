// The train and evaluate tasks on a real typed dataset form: the baseline is the training rows' mean,
// scored on the holdout, and both tasks see the same seeded split (rows without a target left out).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasks } from '../../src/compute/tasks';
import { buildColumnar } from '../../src/data/columnar';
import { withDuckDB } from '../../src/data/duckdb';
import { regressionMetrics } from '../../src/domain/metrics';
import { holdoutSplit } from '../../src/domain/split';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-tasks-'));
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('compute tasks on the typed form', () => {
  it('evaluate scores the training mean as the baseline on the same holdout the model never saw', async () => {
    const rows = 400;
    const y = (r: number) => (r % 50 === 7 ? null : 3 * (r % 17) + (r % 3 === 0 ? 5 : 0));
    const csv = `x,c,y\n${Array.from({ length: rows }, (_, r) => `${r % 17},${['a', 'b', 'c'][r % 3]},${y(r) ?? ''}`).join('\n')}\n`;
    await fs.writeFile(path.join(dir, 'd.csv'), csv);
    const file = path.join(dir, 'd.parquet');
    await withDuckDB({}, (db) => buildColumnar(db, [path.join(dir, 'd.csv')], file, { format: 'csv', encoding: 'utf-8', keepAsText: [] }));
    const schema = { columns: [{ name: 'x', type: 'numeric' as const, nullable: false }, { name: 'c', type: 'categorical' as const, nullable: false }, { name: 'y', type: 'numeric' as const, nullable: true }] };
    const split = { seed: 11, holdoutFraction: 0.25 };
    const dataset = { file, engine: {} };
    const trained = await tasks.train({ dataset, schema, target: 'y', features: ['x', 'c'], split, params: {}, onnx: { docString: 't', metadata: {} } });
    await fs.writeFile(path.join(dir, 'm.onnx'), trained.onnx);
    const scores = await tasks.evaluate({
      dataset, schema, columns: ['x', 'c', 'y'], target: 'y', features: ['x', 'c'], split,
      candidate: { file: path.join(dir, 'm.onnx'), signature: trained.signature }, champion: null,
    });

    // Independently: the usable rows in file order, divided by the same seeded split.
    const usable = Array.from({ length: rows }, (_, r) => y(r)).filter((v): v is number => v !== null);
    const { train, holdout } = holdoutSplit(usable.length, split);
    const trainMean = Array.from(train, (i) => usable[i]).reduce((a, b) => a + b, 0) / train.length;
    const actual = Array.from(holdout, (i) => usable[i]);
    expect(trained.trainRows).toBe(train.length);
    expect(scores.holdoutRows).toBe(holdout.length);
    const expected = regressionMetrics(actual, actual.map(() => trainMean));
    expect(scores.baseline.metrics.rmse).toBeCloseTo(expected.rmse, 9);
    expect(scores.baseline.metrics.mae).toBeCloseTo(expected.mae, 9);
    // y is exactly linear in x and c: the candidate fits it almost perfectly, far better than the mean.
    expect(scores.candidate.metrics.rmse).toBeLessThan(0.1 * scores.baseline.metrics.rmse);
  });
});
