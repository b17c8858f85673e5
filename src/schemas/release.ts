import { z } from 'zod';
import { Identity, ModelName } from './lifecycle';

/** Alias names appear in URLs and queries (`?alias=staging`). */
export const AliasName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit');

/**
 * Aliases the product moves itself: production by lifecycles and rollbacks, canary and shadow by a
 * lifecycle's release. Every other alias (staging, champion-eu, …) is the team's, moved through the API.
 */
export const MANAGED_ALIASES = ['production', 'canary', 'shadow'] as const;
export const isManagedAlias = (alias: string) => (MANAGED_ALIASES as readonly string[]).includes(alias);

const Reason = z.string().trim().min(1, 'must say why (it is kept in the alias history)').max(2000);
/** A version number as the registry stores it (PostgreSQL integer). */
const VersionNumber = z.number().int().min(1).max(2_147_483_647);

/**
 * Input of the `rollbackModel` workflow (API, CLI, `temporal workflow start`). Without `toVersion`, the
 * alias goes back to the version it pointed at before its latest move. `production` only returns to a
 * version that served in production before, so a rollback can never deploy a version nobody approved;
 * a canary alias is rolled back by removing it.
 */
export const RollbackInput = z.strictObject({
  modelName: ModelName,
  alias: z.enum(['production', 'canary']).default('production'),
  toVersion: VersionNumber.optional(),
  reason: Reason,
  /** Set by the API from the caller's token; from the plain Temporal CLI it is unverified unless proven. */
  requestedBy: Identity.default('unknown'),
  requesterProof: z.string().max(128).optional(),
});
export type RollbackInput = z.infer<typeof RollbackInput>;
export type RollbackInputRaw = z.input<typeof RollbackInput>;

export interface RollbackResult {
  modelName: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  /** False when the alias was already there (a repeated rollback changes nothing). */
  moved: boolean;
  movedBy: string;
}

/** Body of `PUT /models/{name}/aliases/{alias}`: point a team alias at a version. */
export const AliasBody = z.strictObject({ version: VersionNumber, reason: Reason });
/** `DELETE …/aliases/{alias}?reason=`: shorter, as a URL must stay within the server's header limit. */
export const AliasDeleteQuery = z.strictObject({ reason: Reason.max(500) });

export const ROLLBACK_WORKFLOW = 'rollbackModel';
