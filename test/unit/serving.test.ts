import { describe, expect, it, vi } from 'vitest';

vi.mock('../../src/serving/onnxSession', () => ({
  createSession: async () => ({ release: async () => {} }),
  // A model whose arithmetic overflowed on the second row.
  predictTable: async () => Float64Array.from([42, Number.POSITIVE_INFINITY]),
}));

const { Predictor, PredictionError } = await import('../../src/serving/predictor');
const { RowsError, rowsToTable } = await import('../../src/serving/rows');
const { createLogger } = await import('../../src/logger');

const signature = { inputs: [{ name: 'year', kind: 'numeric' as const }], output: 'price' };

describe('serving refuses non-finite numbers instead of answering null', () => {
  it('names a non-finite input value (JSON 1e309 parses to Infinity) instead of "got null"', () => {
    expect(() => rowsToTable([{ year: JSON.parse('1e309') }], signature)).toThrow(new RowsError('rows[0].year: not a finite number (Infinity)'));
  });

  it('throws a PredictionError naming the row when the model predicts Infinity or NaN', async () => {
    const version = { id: 1, modelName: 'cars', version: 3, signature, artifact: { uri: 'x', sha256: 'y' } };
    const registry = { resolveAlias: async () => version };
    const store = { read: async () => new Uint8Array() };
    const predictor = new Predictor(registry as never, store as never, createLogger('silent'));
    const err = await predictor.predict('cars', [{ year: 2020 }, { year: 1e308 }]).catch((e: Error) => e);
    expect(err).toBeInstanceOf(PredictionError);
    expect((err as Error).message).toMatch(/^rows\[1\]: the model's prediction is not a finite number/);
    await predictor.close();
  });
});
