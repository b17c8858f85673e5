import type { ArtifactStore } from '../artifacts/store';
import type { Logger } from '../logger';
import { countModelLoad } from '../metrics';
import type { ModelVersion, Registry } from '../registry/registry';
import { queryingAliases, type AliasSource } from './aliasCache';
import { BatchScorer } from './batchScorer';
import { createSession } from './onnxSession';
import { rowsToTable, RowsError } from './rows';

export class ModelNotDeployedError extends Error {
  override name = 'ModelNotDeployedError';
}

/** The model produced no usable number for a row (e.g. an input so large that the arithmetic overflowed). */
/** A version's model file cannot be loaded (missing, altered, or its store unreachable): the server's problem, not the caller's. */
export class ModelUnavailableError extends Error {
  override name = 'ModelUnavailableError';
}

export class PredictionError extends Error {
  override name = 'PredictionError';
}

export interface Prediction {
  model: string;
  version: number;
  predictions: number[];
}

/** Which version answers: a pinned version number, or the version behind an alias (default `production`). */
export interface PredictTarget {
  version?: number;
  alias?: string;
}

/** Failures whose messages are written for the caller (they name a row, field or version, never a secret). */
const TOLD_TO_CALLER = new Set([RowsError.name, PredictionError.name, ModelUnavailableError.name]);
/** A failure as the prediction log keeps it: kind and message for those; for anything else only its kind (the API's log has the rest). */
export const failureText = (error: Error) =>
  (TOLD_TO_CALLER.has(error.name) ? `${error.name}: ${error.message}` : `${error.name}: internal error (see the API's log for this request id)`).slice(0, 500);

/** A shadow version's answer to a copy of a served request: never sent to the caller, only logged. */
export interface ShadowAnswer {
  requestId: string;
  model: string;
  version: number;
  rows: readonly Record<string, unknown>[];
  predictions?: number[];
  error?: string;
  latencyMs: number;
  at: Date;
}

export interface PredictorOptions {
  /** Where aliases are resolved: the process's AliasCache in the API; by default a registry query per request. */
  aliases?: AliasSource;
  /** How long a session no alias points at stays open after its last request. Default 30 s. */
  releaseAfterMs?: number;
  /** Where a shadow version's answers go (the prediction log); without it nothing is shadowed. */
  shadowSink?: (answer: ShadowAnswer) => void;
  /**
   * Shadow scorings running at once at most; beyond, a request is not copied (counted by the sink's
   * `skipped`), so a shadow never takes serving's CPU when traffic bursts. Default 32.
   */
  maxShadowInFlight?: number;
  /** Told of each request not copied to the shadow because `maxShadowInFlight` scorings were running. */
  onShadowSkipped?: (model: string) => void;
}

interface SessionEntry {
  version: ModelVersion;
  session: Promise<BatchScorer>;
  ready: BatchScorer | null;
  inFlight: number;
  lastUsed: number;
}

/**
 * Serves a model's versions with ONNX Runtime. Aliases come from the alias source (in memory, moved by
 * notifications); a moved alias is published only after its new session loaded, so a deploy never makes a
 * request wait or fail. Sessions are cached per version, the artifact's hash checked before ONNX Runtime
 * loads it; the requests a session gets together are scored in one run (BatchScorer). A session no alias points at any more is released once it has had no request for
 * `releaseAfterMs` (requests in flight on it always finish).
 */
export class Predictor {
  private readonly sessions = new Map<number, SessionEntry>();
  /** Pinned versions by model and number: rows of model_versions never change what serving reads. */
  private readonly versions = new Map<string, ModelVersion>();
  private readonly aliases: AliasSource;
  private readonly releaseAfterMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private shadowsInFlight = 0;

  constructor(
    private readonly registry: Pick<Registry, 'resolveAlias' | 'versionByNumber'>,
    private readonly store: ArtifactStore,
    private readonly log: Logger,
    private readonly options: PredictorOptions = {},
  ) {
    this.aliases = options.aliases ?? queryingAliases(registry);
    this.aliases.prepare = (version) => this.warm(version);
    this.releaseAfterMs = options.releaseAfterMs ?? 30_000;
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.min(this.releaseAfterMs / 2, 5_000))).unref();
  }

  /**
   * Predicts with the pinned version, or the alias's (default production). An unpinned request goes to
   * the model's canary with the canary's traffic share, and is copied to its shadow, if it has them.
   */
  async predict(modelName: string, rows: Record<string, unknown>[], target: PredictTarget = {}, requestId?: string): Promise<Prediction> {
    let version = await this.target(modelName, target);
    if (target.version === undefined && target.alias === undefined) {
      const canary = this.aliases.peek?.(modelName, 'canary');
      if (canary?.trafficShare && Math.random() < canary.trafficShare) version = canary;
      if (requestId) this.copyToShadow(modelName, version, rows, requestId);
    }
    const predictions = await this.score(version, rows).catch((err: unknown) => {
      // A failure once the version is chosen is that version's: it says which (the prediction log's error rows, canary error rates).
      if (err instanceof Error) Object.assign(err, { servedVersion: version.version });
      throw err;
    });
    return { model: modelName, version: version.version, predictions };
  }

  /** Scores the rows with a version; the caller's problems (bad rows, non-finite answers) are thrown as such. */
  private async score(version: ModelVersion, rows: Record<string, unknown>[]): Promise<number[]> {
    const entry = this.entry(version);
    const scorer = entry.ready ?? (await entry.session);
    const table = rowsToTable(rows, version.signature);
    entry.inFlight++;
    let output: Float64Array;
    try {
      output = await scorer.score(table);
    } finally {
      entry.inFlight--;
      entry.lastUsed = Date.now();
    }
    const predictions = new Array<number>(output.length);
    for (let i = 0; i < output.length; i++) {
      const p = output[i];
      // JSON has no Infinity or NaN: they would go out as null, a silent non-answer. Name the row instead.
      if (!Number.isFinite(p)) {
        throw new PredictionError(`rows[${i}]: the model's prediction is not a finite number (${p}); check the row's values are in a sensible range`);
      }
      predictions[i] = p;
    }
    return predictions;
  }

  /** Scores a copy of the request with the model's shadow version, after and apart from the answer. */
  private copyToShadow(modelName: string, served: ModelVersion, rows: Record<string, unknown>[], requestId: string): void {
    const sink = this.options.shadowSink;
    const shadow = sink && this.aliases.peek?.(modelName, 'shadow');
    if (!shadow || shadow.id === served.id) return;
    if (this.shadowsInFlight >= (this.options.maxShadowInFlight ?? 32)) return this.options.onShadowSkipped?.(modelName);
    this.shadowsInFlight++;
    const started = performance.now();
    const answer = { requestId, model: modelName, version: shadow.version, rows, at: new Date() };
    // After the caller's own scoring was queued: the shadow only uses what is left.
    setImmediate(() => {
      this.score(shadow, rows)
        .then(
          (predictions) => sink({ ...answer, predictions, latencyMs: performance.now() - started }),
          (err: Error) => sink({ ...answer, error: failureText(err), latencyMs: performance.now() - started }),
        )
        .finally(() => this.shadowsInFlight--);
    });
  }

  /** Loads a version's session (hash checked) if it is not loaded yet; resolves once it can serve. */
  async warm(version: ModelVersion): Promise<void> {
    await this.entry(version).session;
  }

  private async target(modelName: string, target: PredictTarget): Promise<ModelVersion> {
    if (target.version !== undefined) {
      const key = `${modelName}\u0000${target.version}`;
      let version = this.versions.get(key);
      if (!version) {
        const found = await this.registry.versionByNumber(modelName, target.version);
        if (!found) throw new ModelNotDeployedError(`model "${modelName}" has no version ${target.version}`);
        if (this.versions.size >= 10_000) this.versions.clear();
        this.versions.set(key, (version = found));
      }
      return version;
    }
    const alias = target.alias ?? 'production';
    const version = await this.aliases.resolve(modelName, alias);
    if (!version) {
      throw new ModelNotDeployedError(alias === 'production' ? `model "${modelName}" has no production version` : `model "${modelName}" has no alias "${alias}"`);
    }
    return version;
  }

  private entry(version: ModelVersion): SessionEntry {
    const cached = this.sessions.get(version.id);
    if (cached) return cached;
    const loading = this.store.read(version.artifact).then(createSession).then((session) => new BatchScorer(session, version.signature));
    const session = countModelLoad(loading, version.modelName, version.version)
      .catch((err: Error) => {
        this.log.error({ err, model: version.modelName, version: version.version }, 'model version cannot be loaded');
        throw new ModelUnavailableError(`version ${version.version} of model "${version.modelName}" cannot be loaded (${err.name}); try again later or ask an operator`);
      });
    const entry: SessionEntry = { version, session, ready: null, inFlight: 0, lastUsed: Date.now() };
    entry.session.then(
      (s) => {
        entry.ready = s;
        this.log.info({ model: version.modelName, version: version.version }, 'model loaded');
      },
      () => this.sessions.get(version.id) === entry && this.sessions.delete(version.id),
    );
    this.sessions.set(version.id, entry);
    return entry;
  }

  /** Releases sessions no alias points at and nobody used for `releaseAfterMs`. */
  private sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.sessions) {
      if (entry.inFlight > 0 || now - entry.lastUsed < this.releaseAfterMs) continue;
      if (this.aliases.isAliased(entry.version.modelName, id)) continue;
      this.sessions.delete(id);
      void entry.session.then((s) => s.session.release()).catch(() => {});
      this.log.info({ model: entry.version.modelName, version: entry.version.version }, 'model released');
    }
  }

  /** Versions whose sessions are loaded (tests). */
  loadedVersions(modelName: string): number[] {
    return [...this.sessions.values()].filter((e) => e.version.modelName === modelName).map((e) => e.version.version).sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.sessions.values()].map(async (e) => (await e.session).session.release()));
    this.sessions.clear();
  }
}
