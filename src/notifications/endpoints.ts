import { z } from 'zod';
import { Duration, durationMs, formatZodError } from '../schemas/lifecycle';
import { NotificationType } from './events';

/**
 * The webhook endpoints notifications go to, from NOTIFY_WEBHOOKS (JSON) or NOTIFY_WEBHOOKS_FILE (a JSON
 * file): `[{"name": "ops", "url": "https://…", "secret": "…", "events": ["run.failed"], "timeout": "10s"}]`.
 * Workflows and their histories only ever name an endpoint; its URL (often a credential itself, as a
 * Slack hook's path is) and secret stay in the worker's configuration.
 */
const MAX_TIMEOUT_MS = 50_000; // under the activity's start-to-close of a minute (src/workflows/notify.ts)

export const WebhookEndpoint = z.strictObject({
  /** How workflows, logs and failures name the endpoint; default `webhook-<n>` (1-based position). */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"').optional(),
  url: z
    .string()
    .max(2048)
    .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http:// or https:// URL')
    .refine((value) => !URL.canParse(value) || !new URL(value).username, 'must not carry credentials (user:password@): sign with the secret instead'),
  /** The HMAC key the receiver verifies with. */
  secret: z.string().min(32, 'must be at least 32 characters').max(1024),
  /** Event types this endpoint receives; default all. */
  events: z.array(NotificationType).min(1).optional(),
  /** The whole request, from connecting to reading the answer. */
  timeout: Duration.refine((t) => durationMs(t) <= MAX_TIMEOUT_MS, 'must be at most 50s').default('10s'),
});
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint> & { name: string };

export interface NotificationSettings {
  webhooks: WebhookEndpoint[];
  /** NOTIFY_ALLOW_LINK_LOCAL: let webhooks reach link-local and cloud metadata addresses (refused by default). */
  allowLinkLocal: boolean;
}

const Webhooks = z
  .array(WebhookEndpoint)
  .max(50)
  .transform((list) => list.map((w, i) => ({ ...w, name: w.name ?? `webhook-${i + 1}` })))
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((w, i) => {
      if (seen.has(w.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${w.name}" is used twice: names must be unique` });
      seen.add(w.name);
    });
  });

/** The endpoints in `text` (JSON); errors name the setting, the entry and the field, never a secret. */
export function parseWebhooks(text: string, setting: string): WebhookEndpoint[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${setting}: must be a JSON array of {"url", "secret", "events"?, "name"?, "timeout"?}`);
  }
  const parsed = Webhooks.safeParse(json);
  if (!parsed.success) throw new Error(formatZodError(parsed.error).replace(/(^|; )/g, `$1${setting}.`));
  return parsed.data;
}
