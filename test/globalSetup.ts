import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startTemporalDevServer } from '../src/infra/devServer';
import { startEmbeddedPostgres } from '../src/infra/embeddedPostgres';
import { resolveMinio, startMinio } from '../src/infra/minio';
import { resolveTemporalCli } from '../src/infra/temporalCli';
import { createLogger } from '../src/logger';
import { migrate } from '../src/registry/db';
import { WORKFLOWS_PATH } from '../src/workers/worker';
import { SEARCH_ATTRIBUTES } from '../src/workflows/searchAttributes';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
    temporalCliPath: string | null;
    /** The dev server's Web UI (an approver's view of the runs), e.g. http://127.0.0.1:41234. */
    temporalUiUrl: string;
    /** MinIO on loopback for the whole run (root credentials; tests make their own buckets, see test/support/s3.ts). */
    s3Endpoint: string;
    s3AccessKeyId: string;
    s3SecretAccessKey: string;
    /** The MinIO binary, for tests that start (and kill) a server of their own. */
    minioBin: string;
  }
}

/**
 * Starts the real Temporal dev server (with its Web UI, for the browser test), PostgreSQL and MinIO once
 * for the whole run, and bundles the workflows once. MinIO that cannot be provisioned fails the run:
 * the S3 tests are never skipped.
 */
export default async function setup(project: TestProject) {
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-test-'));
  await fs.chmod(work, 0o755); // as root, PostgreSQL runs as `postgres` and must traverse it
  // Both may need a one-time `go install` (npm run provision does them ahead of time): build them side by side.
  const [cli, minioBin] = await Promise.all([resolveTemporalCli({ log: (m) => console.log(m) }), resolveMinio({ log: (m) => console.log(m) })]);
  const temporal = await startTemporalDevServer({ port: 0, uiPort: 0, searchAttributes: SEARCH_ATTRIBUTES, logFile: path.join(work, 'temporal.log') });
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(work, 'postgres') });
  const minio = await startMinio({ binary: minioBin.path, dataDir: path.join(work, 'minio'), logFile: path.join(work, 'minio.log') });
  await migrate(postgres.connectionString, log);
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
  const workflowBundlePath = path.join(work, 'workflow-bundle.js');
  await fs.writeFile(workflowBundlePath, bundle.code);

  project.provide('temporalAddress', temporal.address);
  project.provide('databaseUrl', postgres.connectionString);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('temporalCliPath', cli.path);
  project.provide('temporalUiUrl', temporal.uiUrl!);
  project.provide('s3Endpoint', minio.endpoint);
  project.provide('s3AccessKeyId', minio.accessKeyId);
  project.provide('s3SecretAccessKey', minio.secretAccessKey);
  project.provide('minioBin', minioBin.path);

  return async () => {
    await temporal.stop();
    await postgres.stop();
    await minio.stop();
    await fs.rm(work, { recursive: true, force: true });
  };
}
