import fs from 'node:fs';
import path from 'node:path';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** A small client for the HTTP API, shared by the CLI and the demo. */
export class ApiClient {
  constructor(readonly baseUrl: string, private readonly token: string) {}

  async call<T = any>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(new URL(route, this.baseUrl), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new ApiError(response.status, `${method} ${route}: ${response.status} ${data?.error ?? text}`);
    return data as T;
  }
}

/**
 * The token of a local identity from DATA_DIR/secrets.json (the embedded default), so that on a dev
 * machine `--as local-approver` is enough. Elsewhere pass --token or LIFECYCLE_TOKEN.
 */
export function localToken(identity: string, dataDir = process.env.DATA_DIR ?? '.data'): string {
  const file = path.resolve(dataDir, 'secrets.json');
  let secrets: { tokens: { identity: string; token: string }[] };
  try {
    secrets = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    throw new Error(`no token given and ${file} cannot be read: start the product with \`npm start\` or pass --token / LIFECYCLE_TOKEN`);
  }
  const entry = secrets.tokens.find((t) => t.identity === identity);
  if (!entry) throw new Error(`${file} has no token for "${identity}" (has: ${secrets.tokens.map((t) => t.identity).join(', ')})`);
  return entry.token;
}

export function defaultApiUrl(): string {
  return process.env.LIFECYCLE_API_URL ?? `http://${process.env.API_HOST ?? '127.0.0.1'}:${process.env.API_PORT ?? 3000}`;
}
