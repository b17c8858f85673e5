import { resolveSource, SourceError, type SourcePolicy } from '../data/source';
import { HttpError } from './errors';

/**
 * The dataset URIs of a start request, checked with the worker's own policy before a run starts, so a
 * URI the worker would refuse (outside INGEST_ROOTS, hidden, the product's own files, an unsupported
 * scheme, a bucket outside INGEST_S3_BUCKETS, nothing matching) is a 400 naming the field, not a run
 * that fails a moment later. S3 being unreachable or failing is a 503. The worker checks again when it
 * reads: files can change in between.
 */
export async function checkDatasetUris(input: { datasetUri: string; data?: { schemaUri?: string } }, policy: SourcePolicy): Promise<void> {
  const fields: [string, string | undefined][] = [
    ['datasetUri', input.datasetUri],
    ['data.schemaUri', input.data?.schemaUri],
  ];
  for (const [field, uri] of fields) {
    if (uri === undefined) continue;
    try {
      await resolveSource(uri, policy);
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      if (err.retryable) throw new HttpError(503, `s3 unavailable: ${field}: ${err.message}`);
      throw new HttpError(400, `invalid body: ${field}: ${err.message}`);
    }
  }
}
