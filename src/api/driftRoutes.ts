import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SourcePolicy } from '../data/source';
import type { MonitoringRegistry } from '../registry/monitoring';
import type { Registry } from '../registry/registry';
import { reportLink, type ReportLinkOptions } from '../reports/links';
import { formatZodError } from '../schemas/lifecycle';
import { DRIFT_MONITOR_WORKFLOW, DriftMonitorInput } from '../schemas/monitoring';
import { ModelName } from '../workflows/searchAttributes';
import { checkDatasetUris } from './datasetCheck';
import { HttpError } from './errors';
import { ModelParams } from './schemas';

export interface DriftRoutesDeps {
  temporal: Client;
  taskQueue: string;
  registry: Registry;
  monitoring: MonitoringRegistry;
  approvalSecret: string;
  /** How report links in the history are made (PUBLIC_API_URL, REPORT_LINK_TTL); default: relative links that open for a day. */
  reportLinks?: ReportLinkOptions;
  sources?: SourcePolicy;
}

type Responses = (ok: Record<number, z.ZodType>, errors: number[]) => Record<string, unknown>;

/** The monitor's input without the model, which the path names: the same schema as the workflow's. */
const DriftStartBody = DriftMonitorInput.omit({ modelName: true });
const Ref = z.object({ uri: z.string(), sha256: z.string(), bytes: z.number() });
const DriftRun = z.object({
  workflowId: z.string(),
  runId: z.string(),
  version: z.number().nullable(),
  windowStart: z.string().nullable(),
  windowEnd: z.string(),
  datasetUri: z.string().nullable(),
  currentRows: z.number(),
  verdict: z.enum(['drifted', 'ok', 'not-enough-data']),
  driftedFeatures: z.array(z.string()),
  driftShare: z.number().nullable(),
  predictionDrift: z.boolean().nullable(),
  decay: z.record(z.string(), z.unknown()).nullable(),
  reportJson: Ref.nullable(),
  reportHtml: Ref.nullable(),
  /** The HTML report through GET /reports/view (signed, no token needed). */
  reportUrl: z.string().nullable(),
  retraining: z.record(z.string(), z.unknown()).nullable(),
  recordedAt: z.string(),
});
const DriftHistory = z.object({ modelName: z.string(), runs: z.array(DriftRun) });
const DriftHistoryQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).strict();
/** `historyUrl`: where the run's verdict and report appear once it ends (the run itself: Temporal, by workflowId). */
const DriftStarted = z.object({ workflowId: z.string(), runId: z.string(), historyUrl: z.string() });

/** `GET /models/{name}/drift` (the drift history) and `POST /models/{name}/drift` (run the monitor now). */
export function installDriftRoutes(app: FastifyInstance, deps: DriftRoutesDeps, responses: Responses): void {
  const api = app.withTypeProvider<ZodTypeProvider>();
  const links = deps.reportLinks ?? { secret: deps.approvalSecret, baseUrl: '', ttlMs: 86_400_000 };

  api.get(
    '/models/:name/drift',
    {
      config: { access: 'read' },
      schema: { summary: 'Drift history of a model, newest first, with links to the reports', params: ModelParams, querystring: DriftHistoryQuery, response: responses({ 200: DriftHistory }, [400, 401, 403, 429, 414, 503]) },
    },
    async (request) => {
      const runs = await deps.monitoring.driftRuns(request.params.name, request.query.limit);
      return {
        modelName: request.params.name,
        runs: runs.map(({ modelName: _, ...run }) => ({
          ...run,
          reportUrl: run.reportHtml ? reportLink(run.reportHtml, links) : null,
        })),
      } as z.infer<typeof DriftHistory>;
    },
  );

  api.post(
    '/models/:name/drift',
    {
      config: { access: 'start' },
      // A retraining template may list 1,000 features, as a lifecycle start does.
      bodyLimit: 2 * 1024 * 1024,
      schema: {
        summary: 'Run the drift monitor on a model now (the prediction log over a window, or a dataset)',
        params: ModelParams,
        body: DriftStartBody,
        response: responses({ 201: DriftStarted }, [400, 401, 403, 429, 404, 414, 413, 415, 503]),
      },
    },
    async (request, reply) => {
      const modelName = request.params.name;
      const parsed = DriftMonitorInput.safeParse({ ...request.body, modelName });
      if (!parsed.success) throw new HttpError(400, `invalid body: ${formatZodError(parsed.error)}`);
      if ((await deps.registry.listVersions(modelName)).length === 0) throw new HttpError(404, `no model "${modelName}"`);
      if (deps.sources) {
        if ('datasetUri' in parsed.data.current) await checkDatasetUris({ datasetUri: parsed.data.current.datasetUri }, deps.sources);
        if (parsed.data.retrain) await checkDatasetUris(parsed.data.retrain.lifecycle, deps.sources);
      }
      const workflowId = `drift-${modelName}-${randomUUID().slice(0, 8)}`;
      const handle = await deps.temporal.workflow.start(DRIFT_MONITOR_WORKFLOW, {
        taskQueue: deps.taskQueue,
        workflowId,
        args: [parsed.data],
        typedSearchAttributes: [{ key: ModelName, value: modelName }],
      });
      return reply.code(201).send({ workflowId, runId: handle.firstExecutionRunId, historyUrl: `/models/${encodeURIComponent(modelName)}/drift` });
    },
  );
}
