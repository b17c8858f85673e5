import { z } from 'zod';
import { Identity, LifecycleInput, ModelName } from '../schemas/lifecycle';

/**
 * Request and response schemas of the HTTP API. The same zod schemas validate requests, serialize
 * responses and generate the OpenAPI document, so the document cannot drift from what the server does.
 */

/** Every error answer: one shape, one component in the document. */
export const ErrorBody = z.object({ error: z.string() }).meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof ErrorBody>;

/** Longest run id the API accepts: longer ones get a 400 from the schema, like any other invalid id. */
export const MAX_PARAM_LENGTH = 255;
/**
 * fastify's router refuses longer path parameters with 414 before any validation. It sits well above
 * every documented parameter limit, so an id just over its limit gets the schema's 400 that names it.
 */
export const ROUTER_MAX_PARAM_LENGTH = 1024;

/**
 * A workflow id as the API addresses it: characters that travel in a URL path unescaped, so a
 * documented length is the length the router sees. Ids the API generates always match.
 */
export const WorkflowId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@=-]*$/, 'must be letters, digits, ".", "_", ":", "@", "=" or "-", starting with a letter or digit')
  .max(MAX_PARAM_LENGTH);

export const RunParams = z.object({ id: WorkflowId });
/** `summary`: only what the server answers by itself (stage, outcome, evaluation), never waiting for a worker. */
export const RunStatusQuery = z.object({ view: z.enum(['full', 'summary']).default('full') }).strict();
export const ModelParams = z.object({ name: ModelName });

/** Fields of the lifecycle input that the API sets itself; a client sending them gets a 400 naming them. */
const SERVER_SET = { requestedBy: true, requesterProof: true } as const;

/**
 * The body of `POST /lifecycles`: the lifecycle input without the fields the API sets. Feature names
 * are documented as unique (the input refuses duplicates); the target-in-features rule, which JSON
 * Schema cannot state, is checked by the full `LifecycleInput` in the handler.
 */
export const StartBody = z.strictObject(
  {
    ...LifecycleInput.shape,
    features: LifecycleInput.shape.features.meta({ uniqueItems: true }),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => (k in SERVER_SET ? `${k}: is set by the API from your token; leave it out` : `${k}: unknown field`)).join('; ')
        : undefined,
  },
).omit(SERVER_SET);

export const Started = z.object({ workflowId: z.string(), runId: z.string(), statusUrl: z.string() });

export const DecisionBody = z.strictObject({ comment: z.string().max(2000).default('') }).prefault({});
export const ApprovalTokenBody = z.strictObject({ decision: z.enum(['approve', 'reject']).default('approve') }).prefault({});
export const RequesterProofBody = z.strictObject({ workflowId: WorkflowId });

export const ApprovalTokenAnswer = z.object({
  approver: Identity,
  decision: z.enum(['approve', 'reject']),
  workflowId: z.string(),
  runId: z.string(),
  token: z.string(),
  expiresAt: z.string(),
  signalName: z.enum(['approve', 'reject']),
  signalPayload: z.string().describe('JSON payload of the signal: approver, comment, token'),
  temporalCli: z.string().describe('a complete `temporal workflow signal` command'),
});

export const RequesterProofAnswer = z.object({
  workflowId: z.string(),
  requestedBy: Identity,
  requesterProof: z.string(),
  temporalCli: z.string().describe('a `temporal workflow start` command; add your input fields to its --input'),
});

/** The verdict on the caller's own decision (from the workflow's `decide` update). */
export const DecisionVerdict = z.object({
  decision: z.enum(['approve', 'reject']),
  approver: z.string(),
  comment: z.string(),
  accepted: z.boolean(),
  state: z.enum(['accepted', 'refused', 'not-waiting']),
  final: z.boolean(),
  reason: z.string(),
  receivedAt: z.string(),
});

/** A decision refused or not counted: the error, plus the workflow's verdict when there is one. */
export const DecisionRefused = ErrorBody.extend({ verdict: DecisionVerdict.optional() });

/** The workflow's own status (its `status` query); the stable fields are typed, the rest passes through. */
const WorkflowStatus = z.looseObject({
  modelName: z.string(),
  stage: z.string(),
  since: z.string(),
  waitingFor: z.string().nullable(),
  requestedBy: z.string(),
  approvers: z.array(z.string()),
  decisions: z.array(z.looseObject({})),
  outcome: z.string().nullable(),
});

export const RunStatus = z.object({
  workflowId: z.string(),
  runId: z.string(),
  temporalStatus: z.string(),
  /** From the run's search attributes and memo: present even when no worker answers. */
  modelName: z.string().nullable(),
  stage: z.string().nullable(),
  outcome: z.string().nullable(),
  evaluation: z.looseObject({}).nullable(),
  failure: z.string().nullable(),
  /** The `status` query (needs a worker); null with `statusUnavailable` saying why when it did not answer in time. */
  status: WorkflowStatus.nullable(),
  statusUnavailable: z.string().nullable(),
});

export const Decisions = z.object({
  decisions: z.array(
    z.looseObject({
      runId: z.string().nullable(),
      decision: z.string(),
      approver: z.string(),
      accepted: z.boolean(),
      state: z.string().nullable(),
      reason: z.string(),
      comment: z.string(),
      receivedAt: z.string().nullable(),
      at: z.string(),
    }),
  ),
});

export const Models = z.object({
  models: z.array(z.object({ name: z.string(), createdAt: z.string(), aliases: z.record(z.string(), z.number()) })),
});

export const Versions = z.object({
  versions: z.array(
    z.looseObject({
      modelName: z.string(),
      version: z.number(),
      status: z.string(),
      trainer: z.string(),
      params: z.record(z.string(), z.unknown()),
      trainingMetrics: z.record(z.string(), z.number()),
      evaluation: z.unknown(),
      workflowId: z.string(),
      runId: z.string(),
      createdBy: z.string(),
      approvedBy: z.array(z.string()).nullable(),
      createdAt: z.string(),
    }),
  ),
  aliasHistory: z.array(z.record(z.string(), z.unknown())),
});

/**
 * One feature value: a number, a string or null (unknown). JSON `1e309` parses to Infinity, which is
 * not a number JSON can carry back, so it is named as such rather than as a wrong type.
 */
const FeatureValue = z.union([z.number(), z.string(), z.null()], {
  error: (issue) => (typeof issue.input === 'number' ? `not a finite number (${issue.input})` : 'must be a number, a string or null'),
});
/** A row keyed by feature name; `__proto__` is refused by the body parser, and the document says so. */
const PredictRow = z.record(z.string().regex(/^(?!__proto__$)/, 'must not be "__proto__"'), FeatureValue);

/**
 * Which version answers a prediction: `?version=3` pins a version number, `?alias=staging` the version
 * behind an alias; neither means the `production` alias. Both at once is a 400.
 */
export const PredictQuery = z
  .strictObject({
    version: z.coerce.number().int('must be a whole number').min(1, 'must be 1 or more').max(2_147_483_647).optional().describe('a version number of the model'),
    alias: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit')
      .optional()
      .describe('an alias of the model (default production)'),
  })
  .refine((q) => q.version === undefined || q.alias === undefined, { message: 'give either version or alias, not both', path: ['alias'] });

export const MAX_PREDICT_ROWS = 10_000;
export const PredictBody = z.strictObject({
  rows: z
    .array(PredictRow)
    .min(1, 'must hold at least one row')
    .max(MAX_PREDICT_ROWS, `at most ${MAX_PREDICT_ROWS.toLocaleString('en')} rows per request`),
});
export const Predicted = z.object({
  model: z.string(),
  version: z.number(),
  predictions: z.array(z.number()),
  requestId: z.uuid().describe('this prediction\'s id, also in the `x-request-id` header: the key of its rows in the prediction log and of its feedback'),
});

/** One ground-truth value: the request id a prediction answered with, the row of that request (default 0), the actual value. */
export const FeedbackItem = z.strictObject({
  requestId: z.uuid().describe('the `requestId` of the prediction'),
  row: z.number().int('must be a whole number').min(0).max(MAX_PREDICT_ROWS - 1).optional().describe('index of the row in the request\'s `rows` (default 0)'),
  actual: z.number().describe('the true value of the target'),
});
export const MAX_FEEDBACK_ITEMS = 1_000;
const FeedbackBatch = z.strictObject({ items: z.array(FeedbackItem).min(1, 'must hold at least one item').max(MAX_FEEDBACK_ITEMS, `at most ${MAX_FEEDBACK_ITEMS.toLocaleString('en')} items`) });
/**
 * One item, or `{"items": [...]}`. A body that is neither gets one message naming the fields of the form
 * it looks like (with `items`: the batch; otherwise the single item).
 */
export const FeedbackBody = z.union([FeedbackItem, FeedbackBatch], {
  error: (issue) => {
    if (issue.code !== 'invalid_union' || !('errors' in issue)) return undefined;
    const input = issue.input as Record<string, unknown> | null;
    const batch = typeof input === 'object' && input !== null && !Array.isArray(input) && 'items' in input;
    const issues = (issue.errors as { path: PropertyKey[]; message: string }[][])[batch ? 1 : 0] ?? [];
    const where = (path: PropertyKey[]) => path.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
    return issues.map((i) => (i.path.length ? `${where(i.path)}: ${i.message}` : i.message)).join('; ') || 'must be {requestId, row?, actual} or {items: [...]}';
  },
});
export const FeedbackAccepted = z.object({ accepted: z.number().int().describe('items recorded (202: stored now, whether or not the prediction is flushed yet)') });

export const Health = z.object({ ok: z.boolean() });

/** `GET /health/ready`: each dependency's state; `down` names those that do not answer, `error` says why. */
export const Readiness = z
  .object({
    ready: z.boolean(),
    down: z.array(z.string()),
    error: z.string().optional().describe('"<dependency> unavailable: <why>" for each one that is down'),
    dependencies: z.record(z.string(), z.object({ state: z.enum(['up', 'down']), detail: z.string().optional() })),
  })
  .meta({ id: 'Readiness' });
