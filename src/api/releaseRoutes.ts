import { WorkflowFailedError, type Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requesterProof } from '../auth/approvalToken';
import type { Registry } from '../registry/registry';
import { formatZodError, ModelName } from '../schemas/lifecycle';
import { AliasBody, AliasDeleteQuery, AliasName, isManagedAlias, MANAGED_ALIASES, ROLLBACK_WORKFLOW, RollbackInput, type RollbackResult } from '../schemas/release';
import { ModelName as ModelNameAttribute } from '../workflows/searchAttributes';
import { callerOf } from './authenticate';
import { HttpError, rootMessage } from './errors';

export interface ReleaseRoutesDeps {
  temporal: Client;
  taskQueue: string;
  registry: Registry;
  approvalSecret: string;
  /** How long a rollback is waited for before answering 202 with its workflow id. Default 30 s. */
  rollbackWaitMs?: number;
}

type Responses = (ok: Record<number, z.ZodType>, errors: number[]) => Record<string, unknown>;

const AliasParams = z.object({ name: ModelName, alias: AliasName });
const RollbackBody = z.strictObject({
  ...RollbackInput.pick({ alias: true, toVersion: true, reason: true }).shape,
  /** The same key asks for the same rollback: sent twice (a retry), it moves the alias once. */
  idempotencyKey: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"').optional(),
});
const RollbackAnswer = z.object({
  workflowId: z.string(),
  result: z.object({ modelName: z.string(), alias: z.string(), fromVersion: z.number().nullable(), toVersion: z.number().nullable(), moved: z.boolean(), movedBy: z.string() }).nullable(),
  pending: z.string().optional(),
});
const AliasAnswer = z.object({ model: z.string(), alias: z.string(), version: z.number().nullable(), previousVersion: z.number().nullable() });

/**
 * Rollbacks and the team's own aliases: `POST /models/{name}/rollback` (a `rollbackModel` workflow, so
 * the Temporal UI shows it), `PUT`/`DELETE /models/{name}/aliases/{alias}` for aliases other than the
 * managed production, canary and shadow. Every move is in the alias history with who and why.
 */
export function installReleaseRoutes(app: FastifyInstance, deps: ReleaseRoutesDeps, responses: Responses): void {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/models/:name/rollback',
    {
      config: { access: 'release' },
      schema: {
        summary: 'Move production back to an earlier version (default: the one before the latest deploy), or take a canary out',
        params: z.object({ name: ModelName }),
        body: RollbackBody,
        response: responses({ 200: RollbackAnswer, 202: RollbackAnswer }, [400, 401, 403, 404, 409, 413, 414, 415, 429, 503]),
      },
    },
    async (request, reply) => {
      const who = callerOf(request);
      const { idempotencyKey, ...body } = request.body;
      const modelName = request.params.name;
      const workflowId = `rollback-${modelName}-${idempotencyKey ?? crypto.randomUUID().slice(0, 8)}`;
      const input = RollbackInput.safeParse({ ...body, modelName, requestedBy: who.identity, requesterProof: requesterProof(deps.approvalSecret, workflowId, who.identity) });
      if (!input.success) throw new HttpError(400, `invalid body: ${formatZodError(input.error)}`);
      if (!(await deps.registry.listModels()).some((m) => m.name === modelName)) throw new HttpError(404, `no model "${modelName}"`);
      const handle = await deps.temporal.workflow.start(ROLLBACK_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [input.data],
        // The same key while the first is still running joins it rather than failing.
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: ModelNameAttribute, value: modelName }],
      });
      const waitMs = deps.rollbackWaitMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
      try {
        const result = await Promise.race([handle.result() as Promise<RollbackResult>, timeout]);
        if (!result) return reply.code(202).send({ workflowId, result: null, pending: `not finished within ${waitMs / 1000} s; follow it as workflow ${workflowId}` });
        return reply.code(200).send({ workflowId, result });
      } catch (err) {
        if (err instanceof WorkflowFailedError) throw new HttpError(409, `rollback refused: ${rootMessage(err)}`);
        throw err;
      } finally {
        clearTimeout(timer);
      }
    },
  );

  const refuseManaged = (alias: string) => {
    if (isManagedAlias(alias)) throw new HttpError(400, `alias: "${alias}" is managed by lifecycles and rollbacks (${MANAGED_ALIASES.join(', ')}); use another name, e.g. "staging"`);
  };

  api.put(
    '/models/:name/aliases/:alias',
    {
      config: { access: 'release' },
      schema: {
        summary: 'Point a team alias (e.g. staging) at a version; predict with it as ?alias=<name>',
        params: AliasParams,
        body: AliasBody,
        response: responses({ 200: AliasAnswer }, [400, 401, 403, 404, 413, 414, 415, 429, 503]),
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      refuseManaged(alias);
      const version = await deps.registry.versionByNumber(name, request.body.version);
      if (!version) throw new HttpError(404, `model "${name}" has no version ${request.body.version}`);
      const who = callerOf(request).identity;
      const moved = await deps.registry.moveAlias({ modelName: name, alias, versionId: version.id, movedBy: who, reason: request.body.reason, moveKey: `api/${crypto.randomUUID()}` });
      const previous = moved.moved && moved.fromVersionId !== null ? await deps.registry.getVersion(moved.fromVersionId) : null;
      return { model: name, alias, version: version.version, previousVersion: previous?.version ?? null };
    },
  );

  api.delete(
    '/models/:name/aliases/:alias',
    {
      config: { access: 'release' },
      schema: {
        summary: 'Remove a team alias',
        params: AliasParams,
        querystring: AliasDeleteQuery,
        response: responses({ 200: AliasAnswer }, [400, 401, 403, 404, 414, 429, 503]),
      },
    },
    async (request) => {
      const { name, alias } = request.params;
      refuseManaged(alias);
      const removed = await deps.registry.removeAlias({ modelName: name, alias, movedBy: callerOf(request).identity, reason: request.query.reason, moveKey: `api/${crypto.randomUUID()}` });
      if (removed.removedVersionId === null) throw new HttpError(404, `model "${name}" has no alias "${alias}"`);
      const version = await deps.registry.getVersion(removed.removedVersionId);
      return { model: name, alias, version: null, previousVersion: version?.version ?? null };
    },
  );
}
