import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ApiToken } from './apiTokens';

export interface LocalSecrets {
  approvalSecret: string;
  tokens: ApiToken[];
}

/**
 * Embedded default for a machine with no secrets configured: random API tokens for a local engineer,
 * approver and admin, and an approval-token secret, kept in DATA_DIR/secrets.json (mode 600) so they
 * survive restarts. Production sets API_TOKENS and APPROVAL_SECRET instead.
 */
export async function loadOrCreateLocalSecrets(dataDir: string): Promise<LocalSecrets & { file: string }> {
  const file = path.join(dataDir, 'secrets.json');
  try {
    return { ...(JSON.parse(await fs.readFile(file, 'utf8')) as LocalSecrets), file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = () => randomBytes(24).toString('base64url');
  const secrets: LocalSecrets = {
    approvalSecret: randomBytes(32).toString('base64url'),
    tokens: [
      { identity: 'local-engineer', role: 'engineer', token: token() },
      { identity: 'local-approver', role: 'approver', token: token() },
      { identity: 'local-admin', role: 'admin', token: token() },
    ],
  };
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: 'wx' });
  return { ...secrets, file };
}
