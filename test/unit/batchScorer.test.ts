import { describe, expect, it } from 'vitest';
import { buildLinearModelOnnx, linearModelSignature } from '../../src/domain/onnx/linearModelGraph';
import { fitRidge } from '../../src/domain/ridge';
import { mulberry32 } from '../../src/domain/split';
import type { Table } from '../../src/domain/table';
import { BatchScorer, MAX_BATCH_ROWS } from '../../src/serving/batchScorer';
import { createSession, predictTable } from '../../src/serving/onnxSession';

/** Rows with a numeric and a categorical feature, missing values included; `y` only to fit on. */
function cars(n: number, seed: number): Table {
  const rand = mulberry32(seed);
  const makes = ['Toyota', 'BMW', 'Fiat', 'Kia'];
  const year = Float64Array.from({ length: n }, () => (rand() < 0.1 ? Number.NaN : 2000 + Math.floor(rand() * 24)));
  const make = Array.from({ length: n }, () => (rand() < 0.1 ? null : makes[Math.floor(rand() * makes.length)]));
  const y = Float64Array.from({ length: n }, (_, i) => (Number.isNaN(year[i]) ? 2010 : year[i]) * 100 + (make[i]?.length ?? 0) * 500 + rand() * 50);
  return { rowCount: n, columns: { year: { kind: 'numeric', values: year }, make: { kind: 'categorical', values: make }, y: { kind: 'numeric', values: y } } };
}

const model = fitRidge(cars(400, 1), ['year', 'make'], 'y', { alpha: 1 });
const signature = linearModelSignature(model);

/** A real session whose runs are counted (rows per run), to see what was batched. */
async function countedSession() {
  const session = await createSession(buildLinearModelOnnx(model, { producer: 'test' }));
  const runs: number[] = [];
  const run = session.run.bind(session);
  session.run = ((feeds: Record<string, { dims: readonly number[] }>, ...rest: unknown[]) => {
    runs.push(feeds.year.dims[0]);
    return (run as (...a: unknown[]) => ReturnType<typeof run>)(feeds, ...rest);
  }) as typeof session.run;
  return { session, runs };
}

describe('BatchScorer (dynamic batching on a real ONNX Runtime session)', () => {
  it('scores the requests of one turn in one run, each getting exactly its own rows\' predictions', async () => {
    const { session, runs } = await countedSession();
    const scorer = new BatchScorer(session, signature);
    const tables = [cars(1, 10), cars(3, 11), cars(1, 12), cars(7, 13)];
    const alone = await Promise.all(tables.map((t) => predictTable(session, signature, t)));
    runs.length = 0;
    const batched = await Promise.all(tables.map((t) => scorer.score(t)));
    expect(runs).toEqual([12]);
    batched.forEach((p, i) => expect([...p]).toEqual([...alone[i]]));
    // A lone request later is a run of its own, as soon as it comes.
    const later = await scorer.score(tables[1]);
    expect(runs).toEqual([12, 3]);
    expect([...later]).toEqual([...alone[1]]);
    await session.release();
  });

  it(`runs at most ${MAX_BATCH_ROWS} rows at once (a request larger than that alone)`, async () => {
    const { session, runs } = await countedSession();
    const scorer = new BatchScorer(session, signature);
    const results = await Promise.all([cars(1000, 1), cars(1000, 2), cars(1000, 3), cars(3000, 4), cars(5, 5)].map((t) => scorer.score(t)));
    expect(runs).toEqual([2000, 1000, 3000, 5]);
    expect(results.map((r) => r.length)).toEqual([1000, 1000, 1000, 3000, 5]);
    await session.release();
  });

  it('keeps a failure with the request that caused it: the others of its batch are answered', async () => {
    const { session } = await countedSession();
    const scorer = new BatchScorer(session, signature);
    const bad: Table = { rowCount: 1, columns: { year: { kind: 'categorical', values: ['new'] }, make: { kind: 'categorical', values: ['Kia'] } } };
    const [first, failed, last] = await Promise.allSettled([scorer.score(cars(2, 20)), scorer.score(bad), scorer.score(cars(1, 21))]);
    expect(first).toMatchObject({ status: 'fulfilled' });
    expect((first as PromiseFulfilledResult<Float64Array>).value).toHaveLength(2);
    expect(failed).toMatchObject({ status: 'rejected', reason: { message: expect.stringMatching(/column "year" is categorical but the model expects numeric/) } });
    expect((last as PromiseFulfilledResult<Float64Array>).value).toHaveLength(1);
    await session.release();
  });
});
