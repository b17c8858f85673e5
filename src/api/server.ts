import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import swagger from '@fastify/swagger';
import type { Client } from '@temporalio/client';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { ArtifactStore } from '../artifacts/store';
import type { Authenticator } from '../auth/apiTokens';
import { requesterProof } from '../auth/approvalToken';
import type { SourcePolicy } from '../data/source';
import type { Logger } from '../logger';
import type { Registry } from '../registry/registry';
import type { ReportLinkOptions } from '../reports/links';
import { formatZodError, LifecycleInput } from '../schemas/lifecycle';
import type { Predictor } from '../serving/predictor';
import { statusQuery, WORKFLOW_TYPE } from '../workflows/definitions';
import { LifecycleStage, ModelName } from '../workflows/searchAttributes';
import { callerOf, installAuthentication } from './authenticate';
import { checkDatasetUris } from './datasetCheck';
import { decide, issueToken, openRun, type DecisionDeps } from './decisions';
import { errorHandler, failureLogged, HttpError, rootMessage } from './errors';
import { installHealthRoutes, READINESS_CHECK_TIMEOUT_MS, type DependencyCheck } from './health';
import { installJsonBodyParser } from './jsonBody';
import { predictSerializerCompiler, predictValidatorCompiler } from './predictFast';
import { lazyRequestLogger } from './requestLogger';
import { installReleaseRoutes } from './releaseRoutes';
import { installReportRoutes } from './reports';
import { installScheduleRoutes } from './scheduleRoutes';
import { installServingRoutes, type ServingRoutesDeps } from './servingRoutes';
import { installDriftRoutes } from './driftRoutes';
import type { MonitoringRegistry } from '../registry/monitoring';
import {
  ApprovalTokenAnswer, ApprovalTokenBody, DecisionBody, DecisionRefused, DecisionVerdict, Decisions, ErrorBody, ModelParams,
  Models, PredictBody, Predicted, PredictQuery, RequesterProofAnswer, RunStatusQuery, ROUTER_MAX_PARAM_LENGTH, RequesterProofBody, RunParams, RunStatus, Started, StartBody, Versions,
} from './schemas';
import { signalCommand, startCommand, type TemporalCliTarget } from './temporalCommands';

export interface ApiDeps {
  temporal: Client;
  taskQueue: string;
  registry: Registry;
  predictor: Predictor;
  authenticator: Authenticator;
  approvalSecret: string;
  /** Where validation reports are read from for `GET /reports/view`. */
  store: ArtifactStore;
  log: Logger;
  /** Lifetime of the approval tokens the API issues (APPROVAL_TOKEN_TTL). Default 1 hour. */
  approvalTokenTtlMs?: number;
  /** The CLI, server and namespace named in the commands the API hands out. Default `temporal` on 127.0.0.1:7233, namespace default. */
  temporalCli?: TemporalCliTarget;
  /** Wrong bearer tokens per client address per minute before 429 (AUTH_FAILURES_PER_MINUTE). Default 60. */
  authFailuresPerMinute?: number;
  /** How long an approve/reject waits for the workflow's verdict before 503. Default 30 s. */
  decisionTimeoutMs?: number;
  /** Dependencies `GET /health/ready` checks, by name. Default: temporal only (through `temporal`). */
  readiness?: Record<string, DependencyCheck>;
  /**
   * Where datasets may come from (the worker's INGEST_ROOTS / S3 policy). When set, a start whose
   * datasetUri (or data.schemaUri) the worker would refuse is answered 400 before any run starts.
   */
  sources?: SourcePolicy;
  /** Prediction log and feedback store (src/api/servingRoutes.ts); without them predictions are only counted and there is no feedback route. */
  serving?: ServingRoutesDeps;
  /** Drift history and the monitor's start (src/api/driftRoutes.ts); without it there are no drift routes. */
  monitoring?: MonitoringRegistry;
  /** How the API makes report links (PUBLIC_API_URL, REPORT_LINK_TTL, the product's secret). */
  reportLinks?: ReportLinkOptions;
  /** The schedules file `POST /schedules/apply` applies (SCHEDULES_FILE). */
  schedulesFile?: string;
}

/** Temporal is ready when its frontend answers `GetSystemInfo` within the readiness deadline. */
export function temporalCheck(temporal: Client): DependencyCheck {
  return async () => {
    await temporal.connection.withDeadline(Date.now() + READINESS_CHECK_TIMEOUT_MS, () => temporal.connection.workflowService.getSystemInfo({}));
  };
}

/**
 * Body limits per route, in bytes, documented as 413. Each fits the largest body its schema allows,
 * counting every character escaped as `\uXXXX` (6 bytes): the lifecycle input may list 1,000 features
 * of 256 characters (~1.6 MB escaped), a decision comment is at most 2,000 characters. Prediction
 * batches are bounded by their row count; 4 MiB holds 10,000 rows of a few dozen features.
 */
const KiB = 1024;
const BODY_LIMIT = { default: 16 * KiB, start: 2 * 1024 * KiB, predict: 4 * 1024 * KiB } as const;
/** The status query needs a worker: a missing or busy one must not hold a status read for long. */
const STATUS_QUERY_TIMEOUT_MS = 2_000;

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Invalid request: the message names the field',
  401: 'Missing or unknown bearer token',
  403: 'Your role may not do this (or the workflow refused your decision: see the reason)',
  404: 'No such run or model',
  405: 'Method not allowed on this path',
  409: 'The run is not in a state to take this (closed, or not waiting for a decision)',
  413: 'Body larger than this route accepts',
  414: `A path parameter longer than ${ROUTER_MAX_PARAM_LENGTH} characters (refused by the router before validation)`,
  415: 'Body is not application/json',
  422: 'The model produced no finite prediction for a row',
  429: 'Too many failed authentication attempts from your address: see Retry-After',
  503: 'A dependency is down (the message names it: "temporal unavailable: …", "postgres unavailable: …", "s3 unavailable: …"), or the workflow did not review the decision in time; retry later',
};

/** Response schemas for an operation: the success bodies plus the listed error statuses, all as `ErrorBody`. */
function responses(ok: Record<number, z.ZodType>, errors: number[]) {
  const entry = (status: number, schema: z.ZodType) => [status, { description: STATUS_TEXT[status], content: { 'application/json': { schema } } }] as const;
  return Object.fromEntries([...Object.entries(ok).map(([s, schema]) => entry(Number(s), schema)), ...errors.map((s) => entry(s, ErrorBody))]);
}
/** Statuses every authenticated route can answer. */
const AUTH = [400, 401, 403, 429];
const PARAM = [404, 414];
const BODY = [413, 415];

/** The thin HTTP API: it authenticates, validates, and talks to Temporal and the registry. It runs no lifecycle work. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const cli: TemporalCliTarget = deps.temporalCli ?? { path: 'temporal', address: '127.0.0.1:7233', namespace: 'default' };
  const decisions: DecisionDeps = {
    temporal: deps.temporal,
    approvalSecret: deps.approvalSecret,
    approvalTokenTtlMs: deps.approvalTokenTtlMs ?? 3_600_000,
    decisionTimeoutMs: deps.decisionTimeoutMs ?? 30_000,
  };
  const app = Fastify({
    loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT.default,
    routerOptions: { maxParamLength: ROUTER_MAX_PARAM_LENGTH },
    // fastify's two info lines per request cost more than a prediction: one line from installRequestLog instead.
    logController: new LogController({ disableRequestLogging: true }),
    // Nor a logger per request: made when a request writes its first line (src/api/requestLogger.ts).
    childLoggerFactory: lazyRequestLogger,
    // A UUID per request: the `requestId` of a prediction (prediction log, feedback) and the reqId of its log lines.
    // Version 7 (time first): the log's primary key grows at its end instead of splitting pages at random.
    genReqId: () => uuidv7(),
    // The router's own refusals (414 too-long parameter, 400 bad URL encoding) in the documented ErrorBody shape.
    frameworkErrors: (err, _request, reply) => void (reply as FastifyReply).code(err.statusCode ?? 400).send({ error: err.message }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  installJsonBodyParser(app);
  installRequestLog(app);
  await app.register(swagger, {
    openapi: {
      // 3.1 (JSON Schema 2020-12) can state what 3.0 cannot, e.g. that a row key is never "__proto__".
      openapi: '3.1.0',
      info: { title: 'Lifecycle API', version: '0.2.0', description: 'Start, follow and approve model lifecycles; serve predictions.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await installAuthentication(app, { authenticator: deps.authenticator, failuresPerMinute: deps.authFailuresPerMinute ?? 60 });
  installMethodNotAllowed(app);
  installServingRoutes(app, deps.serving ?? {}, responses);
  installReleaseRoutes(app, deps, responses);

  installHealthRoutes(app, deps.readiness ?? { temporal: temporalCheck(deps.temporal) });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());
  installReportRoutes(app, { store: deps.store, approvalSecret: deps.approvalSecret });
  if (deps.monitoring) installDriftRoutes(app, { ...deps, monitoring: deps.monitoring }, responses);
  installScheduleRoutes(app, { temporal: deps.temporal, taskQueue: deps.taskQueue, file: deps.schedulesFile }, responses);

  app.post(
    '/lifecycles',
    {
      config: { access: 'start' },
      bodyLimit: BODY_LIMIT.start,
      schema: { summary: 'Start a model lifecycle', body: StartBody, response: responses({ 201: Started }, [...AUTH, ...BODY, 503]) },
    },
    async (request, reply) => {
      const who = callerOf(request);
      const workflowId = `lifecycle-${request.body.modelName}-${randomUUID().slice(0, 8)}`;
      // The full input schema also checks what JSON Schema cannot state (the target is not a feature).
      const parsed = LifecycleInput.safeParse({ ...request.body, requestedBy: who.identity, requesterProof: requesterProof(deps.approvalSecret, workflowId, who.identity) });
      if (!parsed.success) throw new HttpError(400, `invalid body: ${formatZodError(parsed.error)}`);
      // The worker's own source policy: a URI it would refuse is a 400 now, not a failed run later.
      if (deps.sources) await checkDatasetUris(parsed.data, deps.sources);
      const handle = await deps.temporal.workflow.start(WORKFLOW_TYPE, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [parsed.data],
        typedSearchAttributes: [{ key: ModelName, value: parsed.data.modelName }],
      });
      return reply.code(201).send({ workflowId, runId: handle.firstExecutionRunId, statusUrl: `/lifecycles/${workflowId}` });
    },
  );

  app.post(
    '/lifecycles/requester-proof',
    {
      config: { access: 'start' },
      schema: {
        summary: 'Proof that you request a run, for starting it with the plain Temporal CLI',
        body: RequesterProofBody,
        response: responses({ 200: RequesterProofAnswer }, [...AUTH, ...BODY]),
      },
    },
    async (request) => {
      const who = callerOf(request);
      const { workflowId } = request.body;
      const proof = requesterProof(deps.approvalSecret, workflowId, who.identity);
      const input = JSON.stringify({ requestedBy: who.identity, requesterProof: proof });
      return {
        workflowId,
        requestedBy: who.identity,
        requesterProof: proof,
        temporalCli: startCommand(cli, { workflowId, taskQueue: deps.taskQueue, workflowType: WORKFLOW_TYPE, input }),
      };
    },
  );

  app.get(
    '/lifecycles/:id',
    {
      config: { access: 'read' },
      schema: { summary: 'Status of a lifecycle run', params: RunParams, querystring: RunStatusQuery, response: responses({ 200: RunStatus }, [...AUTH, ...PARAM, 503]) },
    },
    async (request) => {
      const handle = deps.temporal.workflow.getHandle(request.params.id);
      const description = await handle.describe();
      const state = description.status.name;
      let failure: string | null = null;
      if (state === 'FAILED' || state === 'TERMINATED' || state === 'TIMED_OUT') {
        failure = await handle.result().then(() => null, (err: Error) => rootMessage(err));
      }
      // Stage, model and outcome come from the server's own records (search attributes, memo), which
      // answer even when every worker is busy; the full status needs a worker and may be late.
      const details =
        request.query.view === 'summary'
          ? { status: null, statusUnavailable: 'not asked for (view=summary)' }
          : await deps.temporal
              .withDeadline(Date.now() + STATUS_QUERY_TIMEOUT_MS, () => handle.query(statusQuery))
              .then((status) => ({ status, statusUnavailable: null }), (err: Error) => ({ status: null, statusUnavailable: `the status query did not answer: ${rootMessage(err)}` }));
      return {
        workflowId: handle.workflowId,
        runId: description.runId,
        temporalStatus: state,
        modelName: description.typedSearchAttributes.get(ModelName) ?? null,
        stage: description.typedSearchAttributes.get(LifecycleStage) ?? null,
        outcome: typeof description.memo?.outcome === 'string' ? description.memo.outcome : null,
        evaluation: (description.memo?.evaluation as Record<string, unknown> | undefined) ?? null,
        failure,
        ...details,
      } as z.infer<typeof RunStatus>;
    },
  );

  app.get(
    '/lifecycles/:id/decisions',
    { config: { access: 'read' }, schema: { summary: 'Audit trail of approval decisions', params: RunParams, response: responses({ 200: Decisions }, [...AUTH, 414, 503]) } },
    async (request) => ({ decisions: (await deps.registry.approvalEvents(request.params.id)) as z.infer<typeof Decisions>['decisions'] }),
  );

  app.post(
    '/lifecycles/:id/approval-token',
    {
      config: { access: 'decide' },
      schema: {
        summary: 'Single-use token proving your identity in an approve/reject signal from the Temporal UI or CLI',
        params: RunParams,
        body: ApprovalTokenBody,
        response: responses({ 200: ApprovalTokenAnswer }, [...AUTH, ...PARAM, ...BODY, 409, 503]),
      },
    },
    async (request) => {
      const who = callerOf(request);
      const { decision } = request.body;
      const run = await openRun(deps.temporal, request.params.id);
      const issued = issueToken(decisions, run, who.identity, decision);
      const signalPayload = JSON.stringify({ approver: who.identity, comment: '', token: issued.token });
      return {
        approver: who.identity,
        decision,
        workflowId: run.workflowId,
        runId: run.runId,
        token: issued.token,
        expiresAt: issued.expiresAt,
        signalName: decision,
        signalPayload,
        temporalCli: signalCommand(cli, run, decision, signalPayload),
      };
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/lifecycles/:id/${decision}`,
      {
        config: { access: 'decide' },
        schema: {
          summary: `${decision === 'approve' ? 'Approve' : 'Reject'} the candidate as the caller; answers the workflow's verdict on this decision`,
          params: RunParams,
          body: DecisionBody,
          response: { ...responses({ 200: DecisionVerdict }, [400, 401, 429, 404, 414, ...BODY, 503]), ...responses({ 403: DecisionRefused, 409: DecisionRefused }, []) },
        },
      },
      async (request, reply) => {
        const answer = await decide(decisions, request.params.id, callerOf(request).identity, decision, request.body.comment);
        if (answer.status === 200) return reply.code(200).send(answer.verdict);
        return reply.code(answer.status).send({ error: answer.error, verdict: answer.verdict });
      },
    );
  }

  app.get(
    '/models',
    { config: { access: 'read' }, schema: { summary: 'Registered models and their aliases', response: responses({ 200: Models }, [...AUTH, 503]) } },
    async () => ({ models: await deps.registry.listModels() }),
  );

  app.get(
    '/models/:name/versions',
    { config: { access: 'read' }, schema: { summary: 'Versions of a model with lineage and metrics', params: ModelParams, response: responses({ 200: Versions }, [...AUTH, 414, 503]) } },
    async (request) => ({
      versions: (await deps.registry.listVersions(request.params.name)) as unknown as z.infer<typeof Versions>['versions'],
      aliasHistory: await deps.registry.aliasHistory(request.params.name),
    }),
  );

  app.post(
    '/models/:name/predict',
    {
      config: { access: 'predict' },
      bodyLimit: BODY_LIMIT.predict,
      validatorCompiler: predictValidatorCompiler,
      serializerCompiler: predictSerializerCompiler,
      schema: {
        summary: 'Predict with the production version, or a version or alias named in the query',
        params: ModelParams,
        querystring: PredictQuery,
        body: PredictBody,
        response: responses({ 200: Predicted }, [...AUTH, ...PARAM, ...BODY, 422, 503]),
      },
    },
    async (request) => deps.predictor.predict(request.params.name, request.body.rows, request.query, request.id),
  );

  return app;
}

/**
 * One line per request at most, when it is answered: at debug for successes (LOG_LEVEL=debug shows
 * them; at the default info they cost nothing but a level check), at warn for client errors (4xx) and
 * at error for server errors (5xx), whose cause the error handler has logged with its stack.
 */
function installRequestLog(app: FastifyInstance): void {
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    if (status < 400) request.log.debug({ method: request.method, url: request.url, status, ms: reply.elapsedTime }, 'request');
    else if (!failureLogged.has(request)) request.log[status >= 500 ? 'error' : 'warn']({ method: request.method, url: request.url, status, ms: reply.elapsedTime }, 'request');
    done();
  });
}

/**
 * A known path with a method it does not serve answers 405 with `Allow` (RFC 9110), not 404, so a
 * client can tell a wrong method from a wrong path.
 */
function installMethodNotAllowed(app: FastifyInstance): void {
  const routes: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = new RegExp(`^${route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    const entry = routes.find((r) => r.pattern.source === pattern.source) ?? routes[routes.push({ pattern, methods: new Set() }) - 1];
    for (const m of [route.method].flat()) entry.methods.add(m);
  });
  // In onRequest, before fastify looks at the body (a QUERY without content-type would otherwise get a 400).
  // A plain callback, not an async function: it runs on every request. Answering here ends the request (no done()).
  app.addHook('onRequest', (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split('?')[0];
    const known = routes.find((r) => r.pattern.test(path));
    if (known) {
      const allow = [...known.methods].sort();
      return void reply.code(405).header('allow', allow.join(', ')).send({ error: `${request.method} is not allowed on ${path}; use ${allow.join(' or ')}` });
    }
    reply.code(404).send({ error: `no route ${request.method} ${path}` });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));
}

