import path from 'node:path';
import type { Config } from './config';
import { startEmbeddedPostgres } from './infra/embeddedPostgres';
import { startTemporalDevServer } from './infra/devServer';
import { supervise, type SupervisorStatus } from './infra/supervisor';
import { findTemporalCli } from './infra/temporalCli';
import type { Logger } from './logger';
import { migrate } from './registry/db';
import { SEARCH_ATTRIBUTES } from './workflows/searchAttributes';

export interface Services {
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** A Temporal CLI binary to print in commands (the dev server's, or one already installed), if any. */
  temporalCliPath: string | null;
  databaseUrl: string;
  /** The embedded PostgreSQL, when it runs: where its data and binaries are. */
  postgres: { port: number; dataDir: string; installDir: string; relocated: boolean } | null;
  /** The supervisors of the embedded servers that run (none for configured, external ones). */
  supervised(): Partial<Record<'temporal' | 'postgres', SupervisorStatus>>;
  /** Stops the embedded servers (their supervisors first, so nothing restarts them). */
  stop(): Promise<void>;
}

export interface ServicesOptions {
  /**
   * An embedded server kept failing and its supervisor gave up: the product cannot work, so the caller
   * should stop everything and exit non-zero. Default: log only.
   */
  onGiveUp?: (err: Error) => void;
}

/**
 * The services the product needs: the configured ones, or embedded defaults for those left unset
 * (a Temporal CLI dev server persisting to SQLite, and an embedded PostgreSQL, both under DATA_DIR).
 * Migrations run before anything else touches the database.
 */
export async function startServices(config: Config, log: Logger, options: ServicesOptions = {}): Promise<Services> {
  const stops: (() => Promise<void>)[] = [];
  const statuses: Partial<Record<'temporal' | 'postgres', () => SupervisorStatus>> = {};
  const onGiveUp = options.onGiveUp ?? ((err: Error) => log.error({ err: err.message }, 'an embedded server is down for good'));
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'stop failed'));
  };
  try {
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | null = null;
    let temporalCliPath: string | null = null;
    if (!temporalAddress) {
      const started = Date.now();
      // Restarts reuse the ports and the SQLite file, so clients and the worker reconnect to the same address.
      const devServerOptions = {
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        searchAttributes: SEARCH_ATTRIBUTES,
        logFile: path.join(config.dataDir, 'temporal.log'),
        log: (m: string) => log.info({ component: 'temporal-dev-server' }, m),
      };
      const supervisor = await supervise({
        name: 'temporal',
        start: () => startTemporalDevServer(devServerOptions),
        log,
        onGiveUp,
      });
      const server = supervisor.current();
      devServerOptions.port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
      if (server.uiUrl) devServerOptions.uiPort = Number(new URL(server.uiUrl).port);
      stops.push(() => supervisor.stop());
      statuses.temporal = supervisor.status;
      temporalAddress = server.address;
      temporalUiUrl = server.uiUrl;
      temporalCliPath = server.cliPath;
      log.info({ address: temporalAddress, ui: temporalUiUrl, ms: Date.now() - started }, 'Temporal dev server ready');
    }

    if (!temporalCliPath) temporalCliPath = (await findTemporalCli().catch(() => null))?.path ?? null;

    let databaseUrl = config.DATABASE_URL;
    let postgres: Services['postgres'] = null;
    if (!databaseUrl) {
      const started = Date.now();
      const postgresOptions = {
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.POSTGRES_PORT,
        log: (m: string) => {
          // Notes on where data and binaries went (as root) matter to the user; the server's chatter does not.
          if (/cannot reach|created the system user/.test(m)) log.info({ component: 'embedded-postgres' }, m);
          else log.debug({ component: 'embedded-postgres' }, m);
        },
      };
      const supervisor = await supervise({ name: 'postgres', start: () => startEmbeddedPostgres(postgresOptions), log, onGiveUp });
      const pg = supervisor.current();
      postgresOptions.port = Number(new URL(pg.connectionString).port); // restarts keep the port (and the password)
      stops.push(() => supervisor.stop());
      statuses.postgres = supervisor.status;
      databaseUrl = pg.connectionString;
      postgres = { port: config.POSTGRES_PORT, dataDir: pg.dataDir, installDir: pg.installDir, relocated: pg.relocated };
      log.info({ ...postgres, ms: Date.now() - started }, 'embedded PostgreSQL ready');
    }
    await migrate(databaseUrl, log);
    const supervised = () => Object.fromEntries(Object.entries(statuses).map(([name, status]) => [name, status()]));
    return { temporalAddress, temporalUiUrl, temporalCliPath, databaseUrl, postgres, supervised, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
