import type { LocalArtifactStore } from '../artifacts/store';
import type { ComputePool } from '../compute/pool';
import type { IngestPolicy } from '../data/source';
import type { Registry } from '../registry/registry';

/** What activities need from the outside world; wired once per worker. */
export interface ActivityDeps {
  store: LocalArtifactStore;
  registry: Registry;
  /** Where datasets may be read from (INGEST_ROOTS), and what never may be. */
  ingest: IngestPolicy;
  approvalSecret: string;
  /** Worker threads for the CPU-heavy work (parsing, validation, fitting, scoring). */
  compute: ComputePool;
}
