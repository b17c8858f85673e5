import { z } from 'zod';
import { ModelName } from '../schemas/lifecycle';

/**
 * What the product tells the outside world: one schema for every event a webhook receives. Workflows
 * build them (src/workflows/notify.ts), the activity validates them again before sending, and a
 * receiver's `verifyWebhook` returns them parsed by this same schema.
 */

/** Query parameters that would make a link a credential: links in events are read by whoever gets the webhook. */
const CREDENTIAL_PARAM = /token|secret|passw|api[-_]?key|access[-_]?key|credential|session/i;

/** An http(s) URL that carries no credentials (no user:password@, no token-like query parameter). */
function isShareableLink(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  return ![...url.searchParams.keys()].some((key) => CREDENTIAL_PARAM.test(key));
}

/**
 * Named links for the people the event is for: e.g. `report` (a signed report link: it opens that one
 * report until it expires, as in a run's status), `status` (the run in the API or the Temporal UI).
 */
const Links = z
  .record(z.string().regex(/^[a-z][A-Za-z0-9-]{0,31}$/, 'link names are short words, e.g. "report"'), z.string().max(2048).refine(isShareableLink, 'must be an http(s) URL without credentials or tokens'))
  .refine((links) => Object.keys(links).length <= 10, 'at most 10 links');

const Version = z.number().int().min(1);
const Names = z.array(z.string().min(1).max(256)).max(1000);
const Timestamp = z.iso.datetime({ offset: true });
const Strategy = z.enum(['canary', 'shadow']);

const common = {
  /** Unique per event and the same on every retry of its delivery: receivers de-duplicate on it. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be an event id such as "evt_…"'),
  /** When the event happened (workflow time), not when it was delivered. */
  time: Timestamp,
  model: ModelName,
  /** The workflow run the event is about: `lifecycle status <id>` or the Temporal UI open it. */
  workflow: z.strictObject({ id: z.string().min(1).max(1000), runId: z.string().min(1).max(100) }),
  /** One line for people (chat messages, e-mail subjects). */
  summary: z.string().min(1).max(1000),
  links: Links.default({}),
};

const event = <T extends string, D extends z.ZodRawShape>(type: T, data: D) => z.strictObject({ type: z.literal(type), ...common, data: z.strictObject(data) });

const approval = {
  version: Version,
  approvers: Names,
  approvalsRequired: z.number().int().min(1),
  /** Approvals already counted (two are needed when the requester is unverified). */
  approvedBy: Names.default([]),
  /** The approval window closes then and the run expires. */
  deadline: Timestamp,
};

export const NotificationEvent = z.discriminatedUnion('type', [
  event('approval.waiting', approval),
  event('approval.reminder', { ...approval, /** 1 for the first reminder. */ reminder: z.number().int().min(1) }),
  event('drift.detected', {
    driftedFeatures: Names,
    featuresChecked: z.number().int().min(0),
    datasetDrift: z.boolean(),
    /** Null when not judged (no prediction log, or too little ground truth). */
    predictionDrift: z.boolean().nullable(),
    decay: z.boolean().nullable(),
  }),
  event('retraining.started', {
    trigger: z.enum(['manual', 'schedule', 'drift']),
    reason: z.string().max(2000),
    /** The retraining lifecycle's workflow id. */
    lifecycleWorkflowId: z.string().min(1).max(1000),
  }),
  event('run.failed', { stage: z.string().min(1).max(64), failureType: z.string().min(1).max(200), message: z.string().max(2000) }),
  event('model.deployed', { alias: z.string().min(1).max(64), version: Version, previousVersion: Version.nullable() }),
  event('model.rolled-back', { alias: z.string().min(1).max(64), fromVersion: Version.nullable(), toVersion: Version.nullable(), reason: z.string().max(2000) }),
  event('release.promoted', { strategy: Strategy, version: Version, previousVersion: Version.nullable() }),
  event('release.rolled-back', { strategy: Strategy, version: Version, restoredVersion: Version.nullable(), reason: z.string().max(2000) }),
]);
export type NotificationEvent = z.infer<typeof NotificationEvent>;
export type NotificationEventInput = z.input<typeof NotificationEvent>;
export type NotificationType = NotificationEvent['type'];
export const NOTIFICATION_TYPES = NotificationEvent.options.map((o) => o.shape.type.value) as [NotificationType, ...NotificationType[]];
export const NotificationType = z.enum(NOTIFICATION_TYPES);

type Omitted<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event as a workflow writes it: `notify` adds the id, the time and the workflow run. */
export type NotificationDraft = Omitted<NotificationEventInput, 'id' | 'time' | 'workflow'>;
