/**
 * A lifecycle worker in its own process, for tests that kill it for real (SIGKILL) in the middle of an
 * activity. Run with `node --import tsx test/support/workerProcess.ts`; configured by environment:
 * TEMPORAL_ADDRESS, DATABASE_URL, DATA_DIR, TEMPORAL_TASK_QUEUE, APPROVAL_SECRET and WORKFLOW_BUNDLE
 * (the test run's prebuilt workflow bundle). Prints "worker ready" on stdout once it polls.
 */
import { startWorker } from '../../src/app';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';

const config = loadConfig();
const temporalAddress = process.env.TEMPORAL_ADDRESS;
const databaseUrl = process.env.DATABASE_URL;
const approvalSecret = process.env.APPROVAL_SECRET;
const bundle = process.env.WORKFLOW_BUNDLE;
if (!temporalAddress || !databaseUrl || !approvalSecret || !bundle) {
  throw new Error('workerProcess needs TEMPORAL_ADDRESS, DATABASE_URL, APPROVAL_SECRET and WORKFLOW_BUNDLE');
}
const log = createLogger(config.LOG_LEVEL);
const worker = await startWorker({ config, log, temporalAddress, databaseUrl, secrets: { approvalSecret, tokens: [] } }, { codePath: bundle });
process.stdout.write('worker ready\n');
process.once('SIGTERM', () => void worker.stop().then(() => process.exit(0)));
