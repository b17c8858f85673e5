import { pathToFileURL } from 'node:url';
import { shellQuote } from './api/temporalCommands';
import { loadSecrets, startApi, startWorker } from './app';
import { loadConfig } from './config';
import { ROOT_STATE_DIR } from './infra/embeddedPostgres';
import { createLogger } from './logger';
import { applySchedulesOnStart } from './schedules/applyFile';
import { startServices } from './services';

/**
 * `npm start`: the whole product in one process on embedded defaults — Temporal dev server (Web UI),
 * PostgreSQL, local artifact store, worker and API. Ctrl-C, SIGINT or SIGTERM stops everything in order;
 * data stays in DATA_DIR.
 *
 * The start script execs node (no shell or tsx launcher in between), so a signal sent to the `npm start`
 * process reaches us: npm forwards SIGINT and SIGTERM to its child, while `sh -c` would have kept them.
 */
const started = Date.now();
const config = loadConfig();
const log = createLogger(config.LOG_LEVEL, { format: config.LOG_FORMAT });

// The embedded servers are supervised: one that dies is started again (with backoff, logged); one that
// keeps dying makes its supervisor give up, and then we stop everything and exit 1, so a process
// manager sees the failure instead of a product that answers 503 forever.
const services = await startServices(config, log, {
  onGiveUp: (err) => {
    log.fatal({ err: err.message }, 'an embedded server keeps failing: stopping Lifecycle');
    process.stderr.write(`\n  Lifecycle stops: ${err.message}\n  Its log is in ${config.dataDir}.\n\n`);
    void shutdown('embedded server failed', 1);
  },
});
const ctx = { config, log, temporalAddress: services.temporalAddress, databaseUrl: services.databaseUrl, secrets: await loadSecrets(config) };
const worker = await startWorker(ctx);
// The API hands out Temporal CLI commands naming this binary (full path: it is often not on PATH).
const api = await startApi(ctx, { temporalCliPath: services.temporalCliPath ?? undefined, worker, supervised: services.supervised });

let stopping = false;
async function shutdown(signal: string, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  const t0 = Date.now();
  log.info({ signal }, 'shutting down');
  // Order: no new requests, then the worker drains its tasks, then (only then) the servers stop.
  // (`.then`: a supervisor may give up while we are still starting, before `api` or `worker` exist.)
  await Promise.resolve().then(() => api.stop()).catch((err) => log.error({ err }, 'API stop failed'));
  await Promise.resolve().then(() => worker.stop()).catch((err) => log.error({ err }, 'worker stop failed'));
  await services.stop();
  log.info({ ms: Date.now() - t0 }, 'stopped');
  process.exit(exitCode);
}
// SIGHUP: the terminal running `npm start` was closed.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
// If npm itself dies without passing a signal on (kill -9), nothing else would stop us, and the servers
// would keep the ports and data dir. Started by npm, we leave with it: our parent changes when it dies.
if (process.env.npm_lifecycle_event === 'start') {
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('parent process exited');
  }, 1000).unref();
}

// SCHEDULES_APPLY_ON_START: a schedules file that cannot be applied stops the start, as a bad setting does.
await applySchedulesOnStart(config, services.temporalAddress, log).catch(async (err: Error) => {
  process.stderr.write(`\n  Lifecycle stops: the schedules file was not applied: ${err.message}\n\n`);
  await shutdown('schedules file not applied', 1);
});

const temporalCli = `${shellQuote(services.temporalCliPath ?? 'temporal')} --address ${services.temporalAddress} --namespace ${config.TEMPORAL_NAMESPACE}`;
const pg = services.postgres;
log.info({ ms: Date.now() - started, temporalCli }, 'Lifecycle is ready');
process.stdout.write(
  [
    '',
    `  Lifecycle is ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    `  API           ${api.url}  (OpenAPI: ${api.url}/openapi.json)`,
    `  Temporal      ${services.temporalAddress}${services.temporalUiUrl ? `  Web UI: ${services.temporalUiUrl}` : ''}`,
    `  Temporal CLI  ${temporalCli}${services.temporalCliPath ? '' : '  (no CLI found: npm run provision)'}`,
    `  Task queue    ${config.TEMPORAL_TASK_QUEUE}`,
    pg ? `  PostgreSQL    127.0.0.1:${pg.port}  data: ${pg.dataDir}` : '  PostgreSQL    from DATABASE_URL',
    ...(pg?.relocated ? [`                binaries: ${pg.installDir}  (as root it runs as user postgres: what that user cannot reach in the clone is kept under ${ROOT_STATE_DIR})`] : []),
    ctx.secrets.file ? `  API tokens    ${ctx.secrets.file} (local-engineer, local-approver, local-admin)` : '  API tokens    from API_TOKENS',
    `  Data          ${config.dataDir}`,
    `  Artifacts     ${config.ARTIFACT_STORE ?? pathToFileURL(config.artifactDir).href}`,
    '  Try it:       npm run demo   (in another terminal)',
    `  Stop:         Ctrl-C, or kill -INT / -TERM the npm start process (or this one, pid ${process.pid})`,
    '',
  ].join('\n') + '\n',
);
