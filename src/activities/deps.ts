import type { ArtifactStore } from '../artifacts/store';
import type { ComputePool } from '../compute/pool';
import type { SourcePolicy } from '../data/source';
import type { Registry } from '../registry/registry';

/** What activities need from the outside world; wired once per worker. */
export interface ActivityDeps {
  store: ArtifactStore;
  registry: Registry;
  /** Where datasets may be read from (INGEST_ROOTS, S3 and INGEST_S3_BUCKETS), and what never may be. */
  ingest: SourcePolicy;
  approvalSecret: string;
  /** Worker threads for the CPU-heavy work (parsing, validation, fitting, scoring). */
  compute: ComputePool;
}
