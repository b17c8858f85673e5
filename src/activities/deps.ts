import type { LocalArtifactStore } from '../artifacts/store';
import type { Registry } from '../registry/registry';

/** What activities need from the outside world; wired once per worker. */
export interface ActivityDeps {
  store: LocalArtifactStore;
  registry: Registry;
  /** Directories datasets may be read from (INGEST_ROOTS). */
  ingestRoots: string[];
  approvalSecret: string;
}
