import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { log } from '@temporalio/activity';
import type { ArtifactRef } from '../artifacts/store';
import { resolveLocalSource, SourceError } from '../data/source';
import type { DatasetSchema } from '../domain/schema';
import { compute } from './compute';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';
import { Checkpoints, heartbeating } from './progress';

export interface DatasetVersion extends ArtifactRef {
  sourceUri: string;
}

export interface ValidationSummary {
  rowCount: number;
  schema: DatasetSchema;
  warnings: string[];
  report: ArtifactRef;
}

const LISTED = 20;

/** The first few messages, then how many more and where they are. */
function firstOf(messages: string[], rest: string): string[] {
  return messages.length <= LISTED ? messages : [...messages.slice(0, LISTED), `and ${messages.length - LISTED} more ${rest}`];
}

export function dataActivities(deps: ActivityDeps) {
  const checkpoints = new Checkpoints(deps.store);
  return {
    /** Copies the source into the content-addressed store and registers the dataset version. Same bytes, same version. */
    async ingestDataset(input: { modelName: string; sourceUri: string }): Promise<DatasetVersion> {
      let file: string;
      try {
        file = await resolveLocalSource(input.sourceUri, deps.ingest);
      } catch (err) {
        if (err instanceof SourceError) throw nonRetryable(FailureType.datasetUnavailable, err.message);
        throw err;
      }
      // A large file takes a while to copy and hash: heartbeat so a lost worker is noticed in seconds.
      const ref = await heartbeating('copy', () => deps.store.putStream(createReadStream(file), 'datasets', 'csv'));
      await deps.registry.registerDataset(input.modelName, ref, input.sourceUri);
      log.info('dataset ingested', { sha256: ref.sha256, bytes: ref.bytes, source: input.sourceUri });
      return { ...ref, sourceUri: input.sourceUri };
    },

    /** Checks the dataset against the model's needs and its previous schema; errors end the lifecycle. */
    async validateDataset(input: { modelName: string; dataset: ArtifactRef; target: string; features: string[] }): Promise<ValidationSummary> {
      const champion = await deps.registry.resolveAlias(input.modelName, 'production');
      const reference = champion ? ((await deps.registry.datasetSchema(champion.datasetSha256)) as DatasetSchema | null) : null;
      // Parsing and checking run in a compute thread; the full report is stored there too. The result is
      // kept per run, activity and reference schema: a retry after a failed registry write does not parse again.
      const { value: validated } = await checkpoints.once(
        Checkpoints.key({ reference }),
        () => compute(deps, 'validate', { storeRoot: deps.store.root, dataset: input.dataset, target: input.target, features: input.features, reference }),
        async (kept) => (await fs.stat(deps.store.localPath(kept.stored)).catch(() => null))?.size === kept.stored.bytes,
      );
      const { report, stored } = validated;
      const errors = report.findings.filter((f) => f.severity === 'error').map((f) => f.message);
      if (errors.length > 0) {
        // The message and details stay small whatever the file holds: the full report is stored by reference.
        throw nonRetryable(
          FailureType.datasetInvalid,
          `dataset ${input.dataset.sha256.slice(0, 12)} failed validation: ${firstOf(errors, `errors (all in ${stored.uri})`).join('; ')}`,
          { report: stored, errors: errors.length },
        );
      }
      await deps.registry.recordDatasetProfile(input.dataset.sha256, report.rowCount, report.schema);
      const warnings = report.findings.filter((f) => f.severity === 'warning').map((f) => f.message);
      log.info('dataset validated', { rows: report.rowCount, warnings: warnings.length });
      // Only the columns the model uses travel on to training and evaluation.
      const used = new Set([input.target, ...input.features]);
      const schema = { columns: report.schema.columns.filter((c) => used.has(c.name)) };
      return { rowCount: report.rowCount, schema, warnings: firstOf(warnings, `warnings (all in ${stored.uri})`), report: stored };
    },
  };
}
