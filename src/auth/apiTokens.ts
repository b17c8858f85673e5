import { hash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { Identity } from '../schemas/lifecycle';

export const Role = z.enum(['viewer', 'engineer', 'approver', 'admin']);
export type Role = z.infer<typeof Role>;

export const ApiToken = z.object({ identity: Identity, role: Role, token: z.string().min(16, 'must be at least 16 characters') });
export type ApiToken = z.infer<typeof ApiToken>;
export interface Caller {
  identity: string;
  role: Role;
}

/** Parses API_TOKENS: `identity:role:token` entries separated by commas. */
export function parseTokenSpec(spec: string): ApiToken[] {
  const tokens = spec
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry, i) => {
      const [identity, role, ...rest] = entry.split(':');
      const parsed = ApiToken.safeParse({ identity, role, token: rest.join(':') });
      if (!parsed.success) {
        throw new Error(`API_TOKENS entry ${i + 1} (${identity ?? '?'}): ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      }
      return parsed.data;
    });
  // A shared token would authenticate as whichever entry comes first: refuse the ambiguity.
  tokens.forEach((t, i) => {
    if (tokens.findIndex((u) => u.token === t.token) !== i) throw new Error(`API_TOKENS entry ${i + 1} (${t.identity}): token is already used by another entry`);
    if (tokens.findIndex((u) => u.identity === t.identity) !== i) throw new Error(`API_TOKENS entry ${i + 1}: identity "${t.identity}" is listed twice`);
  });
  return tokens;
}

const digest = (token: string) => hash('sha256', token, 'buffer');

/** Bearer-token authentication; tokens are compared as digests in constant time. */
export class Authenticator {
  private readonly entries: { digest: Buffer; caller: Caller }[];

  constructor(tokens: ApiToken[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), caller: { identity: t.identity, role: t.role } }));
  }

  authenticate(authorization: string | undefined): Caller | null {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!match) return null;
    const given = digest(match[1]);
    return this.entries.find((e) => timingSafeEqual(e.digest, given))?.caller ?? null;
  }
}
