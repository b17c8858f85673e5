import { loadSecrets, startApi } from '../app';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { migrate } from '../registry/db';

/**
 * Production entry point of the API: connects to an existing Temporal cluster and PostgreSQL
 * (TEMPORAL_ADDRESS, DATABASE_URL, API_TOKENS and APPROVAL_SECRET are required).
 */
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);
if (!config.TEMPORAL_ADDRESS || !config.DATABASE_URL) throw new Error('the API needs TEMPORAL_ADDRESS and DATABASE_URL');
if (!config.API_TOKENS || !config.APPROVAL_SECRET) throw new Error('the API needs API_TOKENS and APPROVAL_SECRET');
await migrate(config.DATABASE_URL, log);
const api = await startApi({ config, log, temporalAddress: config.TEMPORAL_ADDRESS, databaseUrl: config.DATABASE_URL, secrets: await loadSecrets(config) });
log.info({ url: api.url }, 'API listening');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.stop().then(() => process.exit(0)));
}
