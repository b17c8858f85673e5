// Signed webhooks, in the manner of Stripe and Standard Webhooks: the signature is an HMAC-SHA256 of
// `<timestamp>.<body>` with the endpoint's secret, so a receiver knows the body came from us unaltered and
// recently; a captured request replayed after the tolerance is refused, and one replayed within it carries
// an event id the receiver has already seen.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatZodError } from '../schemas/lifecycle';
import { NotificationEvent } from './events';

export const WEBHOOK_HEADERS = {
  type: 'lifecycle-event-type',
  id: 'lifecycle-event-id',
  /** Unix seconds when this delivery attempt was signed (each retry is signed afresh). */
  timestamp: 'lifecycle-timestamp',
  /** `v1=<hex HMAC-SHA256>`: the scheme is named so that a later one can be told apart. */
  signature: 'lifecycle-signature',
} as const;

export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `<timestamp>.<body>` with `secret`. */
export function webhookSignature(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The headers of one delivery attempt of `event` whose JSON is `body`. */
export function signedHeaders(secret: string, event: Pick<NotificationEvent, 'id' | 'type'>, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [WEBHOOK_HEADERS.type]: event.type,
    [WEBHOOK_HEADERS.id]: event.id,
    [WEBHOOK_HEADERS.timestamp]: String(timestamp),
    [WEBHOOK_HEADERS.signature]: `v1=${webhookSignature(secret, timestamp, body)}`,
  };
}

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
}

/** Node's `req.headers` or fetch's `Headers`. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * What a receiver runs on every request, with the raw body exactly as received (before any JSON
 * parsing): checks the timestamp is within `toleranceSeconds` of now (default 5 minutes, either way),
 * the signature in constant time, and that the id and type headers match the signed body. Returns the
 * event; throws a WebhookVerificationError saying what failed. Receivers should still keep the ids
 * they have seen for the tolerance window and ignore repeats: retries re-send the same event id.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  options: { toleranceSeconds?: number; now?: number } = {},
): NotificationEvent {
  if (!secret) throw new WebhookVerificationError('no secret to verify with');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = options.now ?? Date.now();

  const timestampText = header(headers, WEBHOOK_HEADERS.timestamp);
  if (!timestampText || !/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError(`missing or malformed ${WEBHOOK_HEADERS.timestamp} header`);
  const timestamp = Number(timestampText);
  if (Math.abs(now / 1000 - timestamp) > tolerance) {
    throw new WebhookVerificationError(`${WEBHOOK_HEADERS.timestamp} is more than ${tolerance}s away from now: a replayed request, or a clock off`);
  }

  const signature = /^v1=([0-9a-f]{64})$/.exec(header(headers, WEBHOOK_HEADERS.signature) ?? '');
  if (!signature) throw new WebhookVerificationError(`missing or malformed ${WEBHOOK_HEADERS.signature} header (expected v1=<64 hex digits>)`);
  const expected = Buffer.from(webhookSignature(secret, timestamp, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(signature[1], 'hex'))) throw new WebhookVerificationError('signature mismatch: the body was altered, or signed with another secret');

  let json: unknown;
  try {
    json = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('the signed body is not JSON');
  }
  const parsed = NotificationEvent.safeParse(json);
  if (!parsed.success) throw new WebhookVerificationError(`the signed body is not a notification event: ${formatZodError(parsed.error)}`);
  // The headers are not signed: a receiver that de-duplicates on the id header must see the signed id.
  if (header(headers, WEBHOOK_HEADERS.id) !== parsed.data.id || header(headers, WEBHOOK_HEADERS.type) !== parsed.data.type) {
    throw new WebhookVerificationError(`${WEBHOOK_HEADERS.id} or ${WEBHOOK_HEADERS.type} does not match the signed body`);
  }
  return parsed.data;
}
