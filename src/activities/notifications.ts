import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { formatZodError } from '../schemas/lifecycle';
import { DeliveryError, deliverWebhook, type Delivered } from '../notifications/delivery';
import type { NotificationSettings } from '../notifications/endpoints';
import { NotificationEvent } from '../notifications/events';
import type { ActivityDeps } from './deps';

/** Failure types of notification delivery (see `deliverNotification` in src/workflows/notify.ts). */
export const NotificationFailure = {
  /** The receiver refused the event (a 4xx but 408/429) or redirected: retrying cannot help. */
  rejected: 'WebhookRejected',
  /** The URL's address is link-local or a metadata service (SSRF guard), or not a host. */
  refused: 'WebhookAddressRefused',
  /** Not reached, timed out, 5xx, 408 or 429: retried with backoff. */
  failed: 'WebhookDeliveryFailed',
  /** The workflow named an endpoint the worker's configuration does not have (changed meanwhile). */
  unknownEndpoint: 'WebhookEndpointUnknown',
  invalid: 'InvalidInput',
} as const;

/** A receiver's Retry-After is honoured up to this long; beyond it the retry policy's backoff decides. */
const MAX_RETRY_AFTER_MS = 3_600_000;

function parseEvent(raw: unknown): NotificationEvent {
  const parsed = NotificationEvent.safeParse(raw);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid notification: ${formatZodError(parsed.error)}`, NotificationFailure.invalid);
  return parsed.data;
}

export function notificationActivities(deps: Pick<ActivityDeps, 'notifications'>) {
  const settings: NotificationSettings = deps.notifications ?? { webhooks: [], allowLinkLocal: false };
  return {
    /**
     * The endpoints that take this event, by name (never URLs or secrets: the result is in the workflow's
     * history). None: the event is logged, and that is all.
     */
    async routeNotification(raw: unknown): Promise<string[]> {
      const event = parseEvent(raw);
      const names = settings.webhooks.filter((w) => !w.events || w.events.includes(event.type)).map((w) => w.name);
      if (names.length === 0) {
        const why = settings.webhooks.length ? 'no webhook takes this event type' : 'no webhook configured';
        log.info(`notification (${why}): ${event.summary}`, { notification: event });
      }
      return names;
    },

    /**
     * One signed POST of the event to the named endpoint. Each retry is signed afresh (a new timestamp)
     * and carries the same event id. Throws non-retryable failures when trying again cannot help.
     */
    async sendNotification(input: { endpoint: string; event: unknown }): Promise<Delivered> {
      const event = parseEvent(input.event);
      const endpoint = settings.webhooks.find((w) => w.name === input.endpoint);
      if (!endpoint) throw ApplicationFailure.nonRetryable(`no webhook named "${input.endpoint}" in NOTIFY_WEBHOOKS`, NotificationFailure.unknownEndpoint);
      const { attempt } = Context.current().info;
      const where = { endpoint: endpoint.name, eventId: event.id, type: event.type, attempt };
      try {
        const delivered = await deliverWebhook(endpoint, event, { allowLinkLocal: settings.allowLinkLocal });
        log.info('notification delivered', { ...where, ...delivered });
        return delivered;
      } catch (err) {
        if (!(err instanceof DeliveryError)) throw err;
        log.warn('notification not delivered', { ...where, reason: err.message, kind: err.kind });
        if (err.kind !== 'failed') throw ApplicationFailure.nonRetryable(err.message, err.kind === 'refused' ? NotificationFailure.refused : NotificationFailure.rejected);
        const nextRetryDelay = err.retryAfterMs === undefined ? undefined : Math.min(err.retryAfterMs, MAX_RETRY_AFTER_MS);
        throw ApplicationFailure.create({ message: err.message, type: NotificationFailure.failed, nextRetryDelay });
      }
    },
  };
}

export type NotificationActivities = ReturnType<typeof notificationActivities>;
