import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { writeHashed, type ArtifactRef } from '../artifacts/store';
import { alignedCounts, schemaViolations } from '../data/checks';
import { buildColumnar, DatasetFormatError, EngineMemoryError, engineError, type ColumnarDataset, type Encoding } from '../data/columnar';
import { withDuckDB } from '../data/duckdb';
import { sniffFormat, type ReadableFormat } from '../data/format';
import { profileColumnar } from '../data/profiler';
import { resolveSource, SourceError, type SourcePart } from '../data/source';
import { compareFeatures } from '../domain/skew';
import type { DatasetProfile } from '../domain/profile';
import type { Finding, ValidationReport } from '../domain/report';
import type { DatasetSchema, SchemaSource } from '../domain/schema';
import { inferSchema, validateProfile } from '../domain/validation';
import { reportLink } from '../reports/links';
import { renderValidationReport } from '../reports/validationReportHtml';
import { parseSchemaFile, SchemaFileError } from '../schemas/datasetSchema';
import type { DataPolicy } from '../schemas/lifecycle';
import { currentRun } from './context';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';
import { Checkpoints, heartbeating } from './progress';

/** A dataset version: its raw bytes (one file, or a manifest of parts) and the forms derived from them. */
export interface DatasetVersion extends ArtifactRef {
  sourceUri: string;
  format: ReadableFormat;
  parts: number;
  rows: number;
  /** The typed Parquet form that every later stage reads. */
  table: ArtifactRef;
  /** Counts, ranges, histograms and top categories per column: validation's input and monitoring's reference. */
  profile: ArtifactRef;
  /** The CSV delimiter, when it is not a comma. */
  delimiter: string | null;
  /** The hash of the raw bytes (of the parts' hashes, for several): the key of the run's lease on the stored files. */
  leaseKey?: string;
}

export interface ValidationSummary {
  rowCount: number;
  usableRows: number;
  schema: DatasetSchema;
  /** The features training uses (those dropped by policy left out). */
  features: string[];
  warnings: string[];
  report: ArtifactRef;
  reportHtml: ArtifactRef;
  /** A signed link that opens the HTML report through the API, for approvers in the Temporal UI. */
  reportUrl: string;
}

export type IngestInput = { modelName: string; sourceUri: string } & Partial<Pick<DataPolicy, 'format' | 'encoding' | 'schemaUri'>>;

const LISTED = 20;

/** The first few messages, then how many more and where they are. */
function firstOf(messages: string[], rest: string): string[] {
  return messages.length <= LISTED ? messages : [...messages.slice(0, LISTED), `and ${messages.length - LISTED} more ${rest}`];
}

/** A source problem as a failure: bad input fails the run at once, an outage is retried. */
function sourceFailure(err: unknown): unknown {
  if (err instanceof SourceError && !err.retryable) return nonRetryable(FailureType.datasetUnavailable, err.message);
  return err;
}

/** Copies one part into a local file; returns the sha256 of its bytes. */
async function download(part: SourcePart, file: string): Promise<string> {
  return (await writeHashed(await part.open(), file)).sha256;
}

/** The format of a local file from its first and last bytes, or a clear refusal. */
async function formatOf(file: string, declared: DataPolicy['format']): Promise<{ format: ReadableFormat; utf16: boolean }> {
  const handle = await fs.open(file);
  try {
    const { size } = await handle.stat();
    const head = Buffer.alloc(Math.min(size, 4096));
    const tail = Buffer.alloc(Math.min(size, 4));
    await handle.read(head, 0, head.length, 0);
    await handle.read(tail, 0, tail.length, Math.max(0, size - tail.length));
    const sniffed = sniffFormat(head, tail, size);
    if ('refused' in sniffed) throw new DatasetFormatError(sniffed.refused);
    const family = sniffed.format === 'parquet' ? 'parquet' : 'csv';
    if (declared !== 'auto' && declared !== family) throw new DatasetFormatError(`data.format says ${declared} but the file is ${family === 'csv' ? (sniffed.format === 'csv-gzip' ? 'gzip-compressed CSV' : 'CSV text') : 'Parquet'}`);
    return { format: sniffed.format, utf16: sniffed.utf16 === true };
  } finally {
    await handle.close();
  }
}

export function dataActivities(deps: ActivityDeps) {
  const checkpoints = new Checkpoints(deps.store);
  const stored = (...refs: ArtifactRef[]) => Promise.all(refs.map((r) => deps.store.exists(r))).then((all) => all.every(Boolean));

  /** The schema the model's data is judged against: the run's schema file, else the model's newest version. */
  async function referenceSchema(modelName: string, schemaUri: string | undefined): Promise<{ schema: DatasetSchema; source: SchemaSource } | null> {
    if (!schemaUri) return deps.registry.latestSchema(modelName);
    const parts = await resolveSource(schemaUri, deps.ingest).catch((err) => Promise.reject(sourceFailure(err)));
    if (parts.length !== 1) throw nonRetryable(FailureType.datasetInvalid, `data.schemaUri must name one file; it matches ${parts.length}`);
    if (parts[0].size > 16 * 2 ** 20) throw nonRetryable(FailureType.datasetInvalid, 'the schema file is larger than 16 MiB');
    const chunks: Buffer[] = [];
    for await (const chunk of await parts[0].open()) chunks.push(Buffer.from(chunk as Buffer));
    try {
      return { schema: parseSchemaFile(Buffer.concat(chunks).toString('utf8')), source: 'file' };
    } catch (err) {
      if (err instanceof SchemaFileError) throw nonRetryable(FailureType.datasetInvalid, err.message);
      throw err;
    }
  }

  return {
    /**
     * Copies the source (every part, in order) into the store while hashing it, then parses it once into its
     * typed Parquet form and profiles that. Same bytes, same version. Nothing is registered here: a dataset
     * that fails validation leaves no trace in the registry. The stored forms are checkpointed per run and
     * activity, so a retry after a later failure does not download and parse again.
     */
    async ingestDataset(input: IngestInput): Promise<DatasetVersion> {
      const parts = await resolveSource(input.sourceUri, deps.ingest).catch((err) => Promise.reject(sourceFailure(err)));
      // A schema file's categorical columns stay text in the typed form, whatever their values look like.
      const pinned = input.schemaUri ? await referenceSchema(input.modelName, input.schemaUri) : await deps.registry.latestSchema(input.modelName);
      const keepAsText = pinned?.schema.columns.filter((c) => c.type === 'categorical').map((c) => c.name) ?? [];
      const { value: version } = await checkpoints.once(
        Checkpoints.key({ parts: parts.map((p) => [p.uri, p.version]), keepAsText, format: input.format, encoding: input.encoding }),
        () => heartbeating('ingest', () => ingest(parts, input, keepAsText)),
        (kept) => stored(kept, kept.table, kept.profile),
      );
      log.info('dataset ingested', { sha256: version.sha256, bytes: version.bytes, rows: version.rows, format: version.format, parts: version.parts, source: input.sourceUri });
      return version;
    },

    /**
     * Judges the dataset from its profile against the lifecycle's data policy, the model's schema and the
     * production model's dataset (skew). Stores the report as JSON and HTML. Errors end the lifecycle,
     * and the stored copies of a dataset no model registered are deleted; on success the dataset version
     * (and, on a model's first dataset, its inferred schema) is registered.
     */
    async validateDataset(input: { modelName: string; dataset: DatasetVersion; target: string; features: string[]; policy: DataPolicy }): Promise<ValidationSummary> {
      const { policy } = input;
      const profile = JSON.parse((await deps.store.read(input.dataset.profile)).toString('utf8')) as DatasetProfile;
      const reference = await referenceSchema(input.modelName, policy.schemaUri);
      const champion = await deps.registry.resolveAlias(input.modelName, 'production');
      const championForms = champion ? await deps.registry.datasetForms(input.modelName, champion.datasetSha256) : null;
      const championProfile = championForms ? (JSON.parse((await deps.store.read(championForms.profile)).toString('utf8')) as DatasetProfile) : null;
      const table = await deps.store.localFile(input.dataset.table);
      const byName = new Map(profile.columns.map((c) => [c.name, c]));
      const used = [input.target, ...input.features].filter((n) => byName.has(n));

      const { checks, skew } = await withDuckDB(deps.engine, async (db) => {
        const schemaColumns = (reference?.schema.columns ?? []).filter((c) => used.includes(c.name) && c.name !== input.target);
        const checks = await schemaViolations(db, table, schemaColumns.map((schema) => ({ schema, storedAs: byName.get(schema.name)!.storedAs })));
        const skew = championProfile ? await compareFeatures(championProfile, profile, input.features, policy, (columns) => alignedCounts(db, table, columns)) : null;
        return { checks, skew };
      });
      const outcome = validateProfile(profile, { target: input.target, features: input.features, policy, reference, checks, skew });

      const usedProfile: DatasetProfile = { ...profile, columns: profile.columns.filter((c) => used.includes(c.name)) };
      const report: ValidationReport = {
        dataset: { sha256: input.dataset.sha256, sourceUri: input.dataset.sourceUri, rows: profile.rows },
        usableRows: outcome.usableRows,
        schema: outcome.schema,
        profile: usedProfile,
        findings: sortFindings(outcome.findings),
        skew: skew && champion ? { referenceSha256: champion.datasetSha256, features: skew } : null,
        applied: { droppedRows: outcome.droppedRows, droppedFeatures: outcome.droppedFeatures },
        thresholds: Object.fromEntries(Object.entries(policy).filter(([, v]) => typeof v === 'number' || typeof v === 'string')) as Record<string, number | string>,
        passed: outcome.passed,
      };
      const reportJson = await deps.store.putBytes(JSON.stringify(report, null, 2), 'reports', 'json');
      const reportHtml = await deps.store.putBytes(renderValidationReport(report), 'reports', 'html');

      const errors = outcome.findings.filter((f) => f.severity === 'error').map((f) => f.message);
      if (errors.length > 0) {
        await discardUnregistered(deps, input.dataset);
        // The message and details stay small whatever the file holds: the full report is stored by reference.
        throw nonRetryable(
          FailureType.datasetInvalid,
          `dataset ${input.dataset.sha256.slice(0, 12)} failed validation: ${firstOf(errors, `errors (all in ${reportJson.uri})`).join('; ')}`,
          { report: reportJson, reportUrl: reportLink(reportHtml, deps.reportLinks), errors: errors.length },
        );
      }
      if (!reference) await deps.registry.recordSchema(input.modelName, 'inferred', inferSchema(profile, policy.numericShare));
      else if (reference.source === 'file') await deps.registry.recordSchema(input.modelName, 'file', reference.schema);
      await deps.registry.registerDataset(input.modelName, { ...input.dataset, schema: outcome.schema });
      await deps.registry.releaseDataset(input.dataset.leaseKey ?? input.dataset.sha256, runKey(), input.dataset.sha256);
      const warnings = outcome.findings.filter((f) => f.severity === 'warning').map((f) => f.message);
      log.info('dataset validated', { rows: profile.rows, usableRows: outcome.usableRows, warnings: warnings.length, dropped: outcome.droppedFeatures.length });
      return {
        rowCount: profile.rows,
        usableRows: outcome.usableRows,
        schema: outcome.schema,
        features: outcome.features,
        warnings: firstOf(warnings, `warnings (all in ${reportJson.uri})`),
        report: reportJson,
        reportHtml,
        reportUrl: reportLink(reportHtml, deps.reportLinks),
      };
    },
  };

  /** Downloads the parts, parses them into the typed form, profiles it, and stores all three. */
  async function ingest(parts: SourcePart[], input: IngestInput, keepAsText: string[]): Promise<DatasetVersion> {
    const work = path.join(deps.scratchDir, `ingest-${randomUUID()}`);
    await fs.mkdir(work, { recursive: true, mode: 0o700 });
    try {
      const files = parts.map((_, i) => path.join(work, `part-${i}`));
      const hashes: string[] = [];
      for (const [i, part] of parts.entries()) hashes.push(await download(part, files[i]).catch((err) => Promise.reject(sourceFailure(err))));
      // Claimed before anything is stored: a concurrent run rejecting the same bytes then keeps the files.
      const leaseKey = hashes.length === 1 ? hashes[0] : createHash('sha256').update(JSON.stringify(hashes)).digest('hex');
      await deps.registry.leaseDataset(leaseKey, runKey());
      const sniffed = await Promise.all(files.map((f) => formatOf(f, input.format ?? 'auto'))).catch((err) => Promise.reject(formatFailure(err)));
      const format = sniffed[0].format;
      if (sniffed.some((f) => f.format !== format)) {
        throw nonRetryable(FailureType.datasetInvalid, `the dataset's parts are in different formats (${[...new Set(sniffed.map((f) => f.format))].join(', ')}): give parts of one format`);
      }
      const encoding: Encoding = sniffed[0].utf16 ? 'utf-16' : ((input.encoding ?? 'utf-8') as Encoding);
      const tablePath = path.join(work, 'table.parquet');
      const columnar: ColumnarDataset = await withDuckDB(deps.engine, (db) =>
        buildColumnar(db, files, tablePath, { format, encoding, keepAsText }),
      ).catch((err) => Promise.reject(formatFailure(err)));
      const profile = await withDuckDB(deps.engine, (db) => profileColumnar(db, tablePath, columnar)).catch((err) => Promise.reject(formatFailure(err)));

      // One part: the dataset is its bytes. Several: a manifest of the parts' hashes, in order.
      const raw: ArtifactRef[] = [];
      for (const file of files) raw.push(await deps.store.putFile(file, 'datasets', format === 'parquet' ? 'parquet' : format === 'csv-gzip' ? 'gz' : 'csv'));
      const manifest =
        raw.length === 1
          ? raw[0]
          : await deps.store.putBytes(JSON.stringify({ parts: raw.map((r, i) => ({ ...r, source: parts[i].uri })) }, null, 2), 'datasets', 'json');
      const table = await deps.store.putFile(tablePath, 'datasets', 'parquet');
      const storedProfile = await deps.store.putBytes(JSON.stringify(profile), 'reports', 'json');
      return {
        ...manifest,
        sourceUri: input.sourceUri,
        format,
        parts: parts.length,
        rows: columnar.rows,
        table,
        profile: storedProfile,
        delimiter: columnar.delimiter,
        leaseKey,
      };
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
  }
}

/** The data engine's refusals as final failures: a file it cannot read, a dataset too big for its memory cap. */
function formatFailure(err: unknown): unknown {
  const e = engineError(err);
  if (e instanceof DatasetFormatError) return nonRetryable(FailureType.datasetInvalid, e.message);
  if (e instanceof EngineMemoryError) return nonRetryable(FailureType.datasetTooLarge, e.message);
  return e;
}

/** Errors first, then warnings, each group in the order found. */
function sortFindings(findings: Finding[]): Finding[] {
  return [...findings.filter((f) => f.severity === 'error'), ...findings.filter((f) => f.severity === 'warning')];
}

/**
 * A dataset that failed validation is not kept: its stored copies (raw bytes, typed form, profile) are
 * deleted, unless a model registered the same bytes or another run still holds a lease on them (see
 * Registry.releaseDataset). The report stays, for the record. Best effort: a failure here must not hide
 * the validation failure.
 */
async function discardUnregistered(deps: ActivityDeps, dataset: DatasetVersion): Promise<void> {
  try {
    await deps.registry.releaseDataset(dataset.leaseKey ?? dataset.sha256, runKey(), dataset.sha256, async () => {
      // Several parts: the dataset is a manifest listing them.
      const parts = dataset.parts > 1 ? (JSON.parse((await deps.store.read(dataset)).toString('utf8')) as { parts: ArtifactRef[] }).parts : [];
      await Promise.all([...parts, dataset, dataset.table, dataset.profile].map((ref) => deps.store.delete(ref)));
    });
  } catch (err) {
    log.warn('could not delete the stored copies of a rejected dataset', { sha256: dataset.sha256, error: (err as Error).message });
  }
}

/** The run this activity works for, as the key of its leases. */
function runKey(): string {
  const { workflowId, runId } = currentRun();
  return `${workflowId}/${runId}`;
}
