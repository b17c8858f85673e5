import { startWorker } from '../app';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { migrate } from '../registry/db';
import { applySchedulesOnStart } from '../schedules/applyFile';

/**
 * Production entry point of a worker: connects to an existing Temporal cluster and PostgreSQL
 * (TEMPORAL_ADDRESS and DATABASE_URL are required) and runs until SIGINT/SIGTERM. Run as many as the load needs.
 */
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) throw new Error('the worker needs TEMPORAL_ADDRESS and DATABASE_URL');
if (!config.APPROVAL_SECRET) throw new Error('the worker needs APPROVAL_SECRET (the same as the API) to verify approvals');
await migrate(config.DATABASE_URL, log);
const worker = await startWorker({ config, log, temporalAddress: config.TEMPORAL_ADDRESS, databaseUrl: config.DATABASE_URL, secrets: { approvalSecret: config.APPROVAL_SECRET, tokens: [] } });
await applySchedulesOnStart(config, config.TEMPORAL_ADDRESS, log).catch(async (err: Error) => {
  log.fatal({ err: err.message }, 'the schedules file was not applied (SCHEDULES_APPLY_ON_START)');
  await worker.stop();
  process.exit(1);
});
log.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void worker.stop().then(() => process.exit(0)));
}
