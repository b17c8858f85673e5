import path from 'node:path';
import type { Config } from './config';
import { startEmbeddedPostgres } from './infra/embeddedPostgres';
import { startTemporalDevServer } from './infra/devServer';
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
  stop(): Promise<void>;
}

/**
 * The services the product needs: the configured ones, or embedded defaults for those left unset
 * (a Temporal CLI dev server persisting to SQLite, and an embedded PostgreSQL, both under DATA_DIR).
 * Migrations run before anything else touches the database.
 */
export async function startServices(config: Config, log: Logger): Promise<Services> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'stop failed'));
  };
  try {
    let temporalAddress = config.TEMPORAL_ADDRESS;
    let temporalUiUrl: string | null = null;
    let temporalCliPath: string | null = null;
    if (!temporalAddress) {
      const started = Date.now();
      const server = await startTemporalDevServer({
        dbFile: path.join(config.dataDir, 'temporal.db'),
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        namespace: config.TEMPORAL_NAMESPACE,
        searchAttributes: SEARCH_ATTRIBUTES,
        logFile: path.join(config.dataDir, 'temporal.log'),
        log: (m) => log.info({ component: 'temporal-dev-server' }, m),
      });
      stops.push(() => server.stop());
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
      const pg = await startEmbeddedPostgres({
        dataDir: path.join(config.dataDir, 'postgres'),
        port: config.POSTGRES_PORT,
        log: (m) => {
          // Notes on where data and binaries went (as root) matter to the user; the server's chatter does not.
          if (/cannot reach|created the system user/.test(m)) log.info({ component: 'embedded-postgres' }, m);
          else log.debug({ component: 'embedded-postgres' }, m);
        },
      });
      stops.push(() => pg.stop());
      databaseUrl = pg.connectionString;
      postgres = { port: config.POSTGRES_PORT, dataDir: pg.dataDir, installDir: pg.installDir, relocated: pg.relocated };
      log.info({ ...postgres, ms: Date.now() - started }, 'embedded PostgreSQL ready');
    }
    await migrate(databaseUrl, log);
    return { temporalAddress, temporalUiUrl, temporalCliPath, databaseUrl, postgres, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
