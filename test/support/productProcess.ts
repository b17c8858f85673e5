import { freePort } from '../../src/infra/net';

/** Free ports for one real product process (`npm start` / `node src/main.ts`) in a test. */
export interface ProductPorts {
  api: number;
  temporal: number;
  ui: number;
  postgres: number;
}

export async function freeProductPorts(): Promise<ProductPorts> {
  return { api: await freePort(), temporal: await freePort(), ui: await freePort(), postgres: await freePort() };
}

/** The environment of a product process kept apart from any other: its own data dir and ports, JSON logs. */
export function productEnv(dataDir: string, ports: ProductPorts, logLevel = 'warn'): NodeJS.ProcessEnv {
  return {
    ...process.env,
    DATA_DIR: dataDir,
    API_PORT: String(ports.api),
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    POSTGRES_PORT: String(ports.postgres),
    LOG_FORMAT: 'json',
    LOG_LEVEL: logLevel,
  };
}
