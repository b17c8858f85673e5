import type { ArtifactStore } from '../artifacts/store';
import type { ComputePool } from '../compute/pool';
import type { EngineOptions } from '../data/duckdb';
import type { NotificationSettings } from '../notifications/endpoints';
import type { SourcePolicy } from '../data/source';
import type { MonitoringRegistry } from '../registry/monitoring';
import type { Registry } from '../registry/registry';
import type { ReportLinkOptions } from '../reports/links';

/** What activities need from the outside world; wired once per worker. */
export interface ActivityDeps {
  store: ArtifactStore;
  registry: Registry;
  /** Drift history and retraining requests (src/registry/monitoring.ts). */
  monitoring: MonitoringRegistry;
  /** Where datasets may be read from (INGEST_ROOTS, S3 and INGEST_S3_BUCKETS), and what never may be. */
  ingest: SourcePolicy;
  approvalSecret: string;
  /** Worker threads for the CPU-heavy work (fitting, scoring). */
  compute: ComputePool;
  /** DuckDB's limits for reading, converting and profiling datasets. */
  engine: EngineOptions;
  /** Signed links to validation reports, for approvers in the Temporal UI (see src/reports/links.ts). */
  reportLinks: ReportLinkOptions;
  /** Local room for downloads and files being written before they are stored (DATA_DIR/scratch). */
  scratchDir: string;
  /** Webhook endpoints for notifications (NOTIFY_WEBHOOKS); unset: none, events are logged only. */
  notifications?: NotificationSettings;
}
