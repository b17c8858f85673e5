import { loadSecrets, startApi, startWorker } from './app';
import { loadConfig } from './config';
import { createLogger } from './logger';
import { startServices } from './services';

/**
 * `npm start`: the whole product in one process on embedded defaults — Temporal dev server (Web UI),
 * PostgreSQL, local artifact store, worker and API. Ctrl-C stops everything; data stays in DATA_DIR.
 */
const started = Date.now();
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL);

const services = await startServices(config, log);
const ctx = { config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets: await loadSecrets(config) };
const worker = await startWorker(ctx);
const api = await startApi(ctx);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'shutting down');
  await api.stop().catch((err) => log.error({ err }, 'API stop failed'));
  await worker.stop().catch((err) => log.error({ err }, 'worker stop failed'));
  await services.stop();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

log.info({ ms: Date.now() - started }, 'Lifecycle is ready');
process.stdout.write(
  [
    '',
    `  Lifecycle is ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API          ${api.url}  (OpenAPI: ${api.url}/openapi.json)`,
    `  Temporal     ${services.temporalAddress}${services.temporalUiUrl ? `  Web UI: ${services.temporalUiUrl}` : ''}`,
    `  Task queue   ${config.TEMPORAL_TASK_QUEUE}`,
    ctx.secrets.file ? `  API tokens   ${ctx.secrets.file} (local-engineer, local-approver, local-admin)` : '  API tokens   from API_TOKENS',
    `  Data         ${config.dataDir}`,
    '  Try it:      npm run demo   (in another terminal)     Stop: Ctrl-C',
    '',
  ].join('\n') + '\n',
);
