import type { ArtifactStore } from '../artifacts/store';
import type { Logger } from '../logger';
import type { ModelVersion, Registry } from '../registry/registry';
import { createSession, predictTable, type OnnxSession } from './onnxSession';
import { rowsToTable } from './rows';

export class ModelNotDeployedError extends Error {
  override name = 'ModelNotDeployedError';
}

/** The model produced no usable number for a row (e.g. an input so large that the arithmetic overflowed). */
export class PredictionError extends Error {
  override name = 'PredictionError';
}

export interface Prediction {
  model: string;
  version: number;
  predictions: number[];
}

/**
 * Serves the version behind a model's `production` alias. The alias is looked up on every request, so a
 * deploy takes effect at once; sessions are cached per version and the artifact's hash is checked before
 * ONNX Runtime loads it. Requests in flight on the old version finish on it.
 */
export class Predictor {
  private readonly sessions = new Map<number, { modelName: string; session: Promise<OnnxSession> }>();

  constructor(
    private readonly registry: Registry,
    private readonly store: ArtifactStore,
    private readonly log: Logger,
    /** How long a replaced version's session stays open for requests already using it. */
    private readonly releaseAfterMs = 30_000,
  ) {}

  async predict(modelName: string, rows: Record<string, unknown>[]): Promise<Prediction> {
    const version = await this.registry.resolveAlias(modelName, 'production');
    if (!version) throw new ModelNotDeployedError(`model "${modelName}" has no production version`);
    const table = rowsToTable(rows, version.signature);
    const predictions = Array.from(await predictTable(await this.session(version), version.signature, table));
    // JSON has no Infinity or NaN: they would go out as null, a silent non-answer. Name the row instead.
    const bad = predictions.findIndex((p) => !Number.isFinite(p));
    if (bad >= 0) {
      throw new PredictionError(`rows[${bad}]: the model's prediction is not a finite number (${predictions[bad]}); check the row's values are in a sensible range`);
    }
    return { model: modelName, version: version.version, predictions };
  }

  private session(version: ModelVersion): Promise<OnnxSession> {
    const cached = this.sessions.get(version.id);
    if (cached) return cached.session;
    const session = this.store.read(version.artifact).then(createSession);
    session.catch(() => this.sessions.delete(version.id));
    this.retire(version.modelName);
    this.sessions.set(version.id, { modelName: version.modelName, session });
    this.log.info({ model: version.modelName, version: version.version }, 'model loaded');
    return session;
  }

  /** Drops the model's older sessions from the cache and releases them once in-flight requests are done. */
  private retire(modelName: string): void {
    for (const [id, entry] of this.sessions) {
      if (entry.modelName !== modelName) continue;
      this.sessions.delete(id);
      setTimeout(() => void entry.session.then((s) => s.release()).catch(() => {}), this.releaseAfterMs).unref();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map(async (e) => (await e.session).release()));
    this.sessions.clear();
  }
}
