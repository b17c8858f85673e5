import { describe, expect, it } from 'vitest';
import type { ArtifactStore } from '../../src/artifacts/store';
import { createLogger } from '../../src/logger';
import { metricsRegistry } from '../../src/metrics';
import type { ModelVersion } from '../../src/registry/registry';
import { ModelNotDeployedError, ModelUnavailableError, Predictor } from '../../src/serving/predictor';

// The store and registry are stand-ins: this is about which failures name the version, not about loading models.
const version = { id: 41, modelName: 'm-unit', version: 7, signature: { inputs: [{ name: 'x', kind: 'numeric' }], output: 'y' }, artifact: { uri: 'file:///gone.onnx', sha256: '0'.repeat(64), bytes: 1 } } as unknown as ModelVersion;
const registry = {
  resolveAlias: async (_m: string, alias: string) => (alias === 'production' ? version : null),
  versionByNumber: async (_m: string, n: number) => (n === 7 ? version : null),
};
const store = { read: async () => Promise.reject(Object.assign(new Error('no such object'), { name: 'NoSuchKey' })) } as unknown as ArtifactStore;

async function failure(p: Promise<unknown>): Promise<Error & { servedVersion?: unknown }> {
  return p.then(() => Promise.reject(new Error('expected a failure')), (err: Error) => err);
}

describe('Predictor.predict failures', () => {
  it('a failure after the version was chosen carries servedVersion; one before (no such version or alias) does not; loads are counted per version', async () => {
    const predictor = new Predictor(registry, store, createLogger('fatal'));
    try {
      const unavailable = await failure(predictor.predict('m-unit', [{ x: 1 }]));
      expect(unavailable).toBeInstanceOf(ModelUnavailableError);
      expect(unavailable.servedVersion).toBe(7);
      const pinned = await failure(predictor.predict('m-unit', [{ x: 1 }], { version: 7 }));
      expect(pinned.servedVersion).toBe(7);

      const noVersion = await failure(predictor.predict('m-unit', [{ x: 1 }], { version: 8 }));
      expect(noVersion).toBeInstanceOf(ModelNotDeployedError);
      expect(noVersion.servedVersion).toBeUndefined();
      const noAlias = await failure(predictor.predict('m-unit', [{ x: 1 }], { alias: 'staging' }));
      expect(noAlias).toBeInstanceOf(ModelNotDeployedError);
      expect('servedVersion' in noAlias).toBe(false);

      const loads = (await metricsRegistry.getSingleMetric('lifecycle_model_loads_total')!.get()).values.filter((v) => v.labels.model === 'm-unit');
      expect(loads).toEqual([{ labels: { model: 'm-unit', version: '7', outcome: 'failed' }, value: 2 }]);
    } finally {
      await predictor.close();
    }
  });
});
