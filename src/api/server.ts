import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import { Client, WorkflowNotFoundError } from '@temporalio/client';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createApprovalToken } from '../auth/approvalToken';
import type { Logger } from '../logger';
import type { Registry } from '../registry/registry';
import { LifecycleInput, ModelName as ModelNameSchema } from '../schemas/lifecycle';
import { ModelNotDeployedError, type Predictor } from '../serving/predictor';
import { RowsError } from '../serving/rows';
import { approveSignal, rejectSignal, statusQuery, WORKFLOW_TYPE, type LifecycleStatus } from '../workflows/definitions';
import { ModelName } from '../workflows/searchAttributes';
import type { Authenticator, Caller } from '../auth/apiTokens';
import { can, type Permission } from './auth';

export interface ApiDeps {
  temporal: Client;
  taskQueue: string;
  registry: Registry;
  predictor: Predictor;
  authenticator: Authenticator;
  approvalSecret: string;
  log: Logger;
}

class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

const RunParams = z.object({ id: z.string().min(1).max(255) });
const ModelParams = z.object({ name: ModelNameSchema });
const DecisionBody = z.object({ comment: z.string().max(2000).default('') }).strict().prefault({});
const PredictBody = z
  .object({ rows: z.array(z.record(z.string(), z.unknown())).min(1, 'must hold at least one row').max(10_000, 'at most 10,000 rows per request') })
  .strict();

const DECISION_WAIT_MS = 10_000;

/** The thin HTTP API: it validates, authenticates, and talks to Temporal and the registry. It runs no lifecycle work. */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.log.child({ component: 'api' }) as FastifyBaseLogger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Lifecycle API', version: '0.1.0', description: 'Start, follow and approve model lifecycles; serve predictions.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.setErrorHandler((err, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const problems = err.validation.map((v) => `${v.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)'}: ${v.message}`);
      return reply.code(400).send({ error: `invalid ${err.validationContext ?? 'request'}: ${problems.join('; ')}` });
    }
    if (err instanceof HttpError) return reply.code(err.statusCode).send({ error: err.message });
    if (err instanceof RowsError) return reply.code(400).send({ error: err.message });
    if (err instanceof ModelNotDeployedError) return reply.code(404).send({ error: err.message });
    if (err instanceof WorkflowNotFoundError) return reply.code(404).send({ error: `no lifecycle run "${(request.params as { id?: string }).id}"` });
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status < 500) return reply.code(status).send({ error: (err as Error).message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal error' });
  });

  const caller = (request: FastifyRequest, permission: Permission): Caller => {
    const who = deps.authenticator.authenticate(request.headers.authorization);
    if (!who) throw new HttpError(401, 'missing or unknown bearer token');
    if (!can(who, permission)) throw new HttpError(403, `role "${who.role}" of "${who.identity}" may not ${permission}`);
    return who;
  };
  const run = (id: string) => deps.temporal.workflow.getHandle(id);

  app.get('/health', { schema: { hide: true } }, async () => ({ ok: true }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.post('/lifecycles', { schema: { body: LifecycleInput, summary: 'Start a model lifecycle' } }, async (request, reply) => {
    const who = caller(request, 'start');
    const raw = request.body as unknown as { requestedBy?: string };
    if (raw.requestedBy !== undefined && raw.requestedBy !== 'unknown' && raw.requestedBy !== who.identity) {
      throw new HttpError(400, `requestedBy: is set from your token ("${who.identity}"); leave it out`);
    }
    const input = { ...request.body, requestedBy: who.identity };
    const workflowId = `lifecycle-${input.modelName}-${randomUUID().slice(0, 8)}`;
    const handle = await deps.temporal.workflow.start(WORKFLOW_TYPE, {
      taskQueue: deps.taskQueue,
      workflowId,
      args: [input],
      typedSearchAttributes: [{ key: ModelName, value: input.modelName }],
    });
    return reply.code(201).send({ workflowId, runId: handle.firstExecutionRunId, statusUrl: `/lifecycles/${workflowId}` });
  });

  app.get('/lifecycles/:id', { schema: { params: RunParams, summary: 'Status of a lifecycle run' } }, async (request) => {
    caller(request, 'read');
    const handle = run(request.params.id);
    const description = await handle.describe();
    const state = description.status.name;
    let failure: string | null = null;
    if (state === 'FAILED' || state === 'TERMINATED' || state === 'TIMED_OUT') {
      failure = await handle.result().then(() => null, (err: Error) => rootMessage(err));
    }
    const status = await handle.query(statusQuery).catch(() => null);
    return { workflowId: handle.workflowId, runId: description.runId, temporalStatus: state, failure, status };
  });

  app.get('/lifecycles/:id/decisions', { schema: { params: RunParams, summary: 'Audit trail of approval decisions' } }, async (request) => {
    caller(request, 'read');
    return { decisions: await deps.registry.approvalEvents(request.params.id) };
  });

  app.post('/lifecycles/:id/approval-token', { schema: { params: RunParams, summary: 'Token proving your identity in a UI or CLI signal' } }, async (request) => {
    const who = caller(request, 'decide');
    const workflowId = request.params.id;
    await run(workflowId).describe(); // 404 for unknown runs
    const token = createApprovalToken(deps.approvalSecret, workflowId, who.identity);
    const payload = JSON.stringify({ approver: who.identity, comment: '', token });
    return {
      approver: who.identity,
      token,
      signalPayload: payload,
      temporalCli: `temporal workflow signal --workflow-id ${workflowId} --name approve --input '${payload}'`,
    };
  });

  for (const [path, signal, decision] of [
    ['approve', approveSignal, 'approve'],
    ['reject', rejectSignal, 'reject'],
  ] as const) {
    app.post(`/lifecycles/:id/${path}`, { schema: { params: RunParams, body: DecisionBody, summary: `Send the ${decision} decision as the caller` } }, async (request, reply) => {
      const who = caller(request, 'decide');
      const handle = run(request.params.id);
      const before = (await handle.query(statusQuery)).decisions.length;
      const token = createApprovalToken(deps.approvalSecret, handle.workflowId, who.identity);
      await handle.signal(signal, { approver: who.identity, comment: request.body.comment, token });
      const verdict = await waitForReview(() => handle.query(statusQuery), before);
      if (!verdict) return reply.code(202).send({ decision, approver: who.identity, reviewed: false });
      return reply.code(verdict.accepted ? 200 : 403).send({ decision, approver: who.identity, reviewed: true, accepted: verdict.accepted, reason: verdict.reason });
    });
  }

  app.get('/models', { schema: { summary: 'Registered models and their aliases' } }, async (request) => {
    caller(request, 'read');
    return { models: await deps.registry.listModels() };
  });

  app.get('/models/:name/versions', { schema: { params: ModelParams, summary: 'Versions of a model with lineage and metrics' } }, async (request) => {
    caller(request, 'read');
    return { versions: await deps.registry.listVersions(request.params.name), aliasHistory: await deps.registry.aliasHistory(request.params.name) };
  });

  app.post('/models/:name/predict', { schema: { params: ModelParams, body: PredictBody, summary: 'Predict with the production version' } }, async (request) => {
    caller(request, 'predict');
    return deps.predictor.predict(request.params.name, request.body.rows);
  });

  return app;
}

/** Waits until the workflow has reviewed the decision just sent (or gives up: the signal is still queued). */
async function waitForReview(status: () => Promise<LifecycleStatus>, before: number) {
  const deadline = Date.now() + DECISION_WAIT_MS;
  while (Date.now() < deadline) {
    const s = await status();
    if (s.decisions.length > before) return s.decisions[before];
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

function rootMessage(err: Error): string {
  let e: (Error & { cause?: unknown }) | undefined = err;
  while (e?.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e?.message ?? String(err);
}
