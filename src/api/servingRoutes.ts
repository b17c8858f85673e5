import type { FastifyInstance, onErrorHookHandler, onResponseHookHandler, onSendHookHandler, preSerializationHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { errorKind, metrics, metricsRegistry } from '../metrics';
import type { FeedbackStore } from '../serving/feedback';
import type { PredictionLog } from '../serving/predictionLog';
import { failureText } from '../serving/predictor';
import { callerOf } from './authenticate';
import { HttpError } from './errors';
import { rowsJsonOf } from './predictFast';
import { FeedbackAccepted, FeedbackBody, ModelParams } from './schemas';

export interface ServingRoutesDeps {
  /** Where served predictions are logged; without it they are only counted. */
  predictionLog?: PredictionLog;
  /** Where feedback is stored; without it there is no feedback route. */
  feedback?: FeedbackStore;
}

type Responses = (ok: Record<number, z.ZodType>, errors: number[]) => Record<string, unknown>;

const PREDICT_ROUTE = '/models/:name/predict';


/**
 * What serving adds around the predict route, without touching its handler:
 * - every predict answer carries the request's id (fastify's request id, a UUID) in `x-request-id`, and a
 *   200 also as `requestId` in the body;
 * - a 200 is observed (latency histogram per model and version, rows predicted) and handed to the
 *   prediction log, which only appends to memory; an error answer is counted by kind, and one the chosen
 *   version failed (its error carries `servedVersion`, see Predictor.predict) is logged as an error row;
 * plus `POST /models/{name}/feedback` and `GET /metrics`.
 * The hooks are the predict route's own (added as it is declared), so no other route runs them and
 * they need not ask each request which route it is on.
 */
export function installServingRoutes(app: FastifyInstance, deps: ServingRoutesDeps, responses: Responses): void {
  const log = deps.predictionLog;
  // Label objects per model and version, made once: prom-client hashes them on every observation.
  const labelsOf = new Map<string, { model: string; version: string }>();
  const labels = (model: string, version: number) => {
    const key = `${model}\u0000${version}`;
    let found = labelsOf.get(key);
    if (!found) labelsOf.set(key, (found = { model, version: String(version) }));
    return found;
  };
  // Plain callbacks, not async ones: these run on every request of the serving fast path.
  const preSerialization: preSerializationHookHandler<unknown> = (request, reply, payload, done) => {
    if (reply.statusCode !== 200) return done(null, payload);
    const answer = payload as { model: string; version: number; predictions: number[]; requestId?: string };
    const latencyMs = reply.elapsedTime;
    const at = labels(answer.model, answer.version);
    metrics.predictSeconds.observe(at, latencyMs / 1000);
    metrics.predictions.inc(at, answer.predictions.length);
    log?.record({
      requestId: request.id,
      model: answer.model,
      version: answer.version,
      rows: (request.body as { rows: Record<string, unknown>[] }).rows,
      rowsJson: rowsJsonOf(request.jsonText),
      predictions: answer.predictions,
      latencyMs,
      at: new Date(),
    });
    answer.requestId = request.id; // the predictor's own fresh object
    done(null, answer);
  };
  // A request that failed once its version was chosen is that version's failure: logged as an error row.
  const onError: onErrorHookHandler = (request, reply, error, done) => {
    const version = (error as { servedVersion?: unknown }).servedVersion;
    if (typeof version === 'number') {
      log?.record({
        requestId: request.id,
        model: (request.params as { name: string }).name,
        version,
        rows: (request.body as { rows: Record<string, unknown>[] }).rows,
        rowsJson: rowsJsonOf(request.jsonText),
        error: failureText(error),
        latencyMs: reply.elapsedTime,
        at: new Date(),
      });
    }
    done();
  };
  const onSend: onSendHookHandler = (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  };
  const onResponse: onResponseHookHandler = (_request, reply, done) => {
    if (reply.statusCode >= 400) metrics.predictErrors.inc({ kind: errorKind(reply.statusCode) });
    done();
  };
  const hooks = { preSerialization, onError, onSend, onResponse } as const;
  app.addHook('onRoute', (route) => {
    if (route.url !== PREDICT_ROUTE || route.method !== 'POST') return;
    const own = route as unknown as Record<keyof typeof hooks, unknown>;
    for (const [name, hook] of Object.entries(hooks) as [keyof typeof hooks, unknown][]) own[name] = [...[own[name] ?? []].flat(), hook];
  });

  // Prometheus text format. Not an API operation (left out of the OpenAPI document like /health), but
  // not public either: per-model traffic and errors are the operator's business. Scrape it with any API
  // token (a viewer token is enough).
  app.get('/metrics', { config: { access: 'read' }, schema: { hide: true } }, async (_request, reply) => {
    const body = await metricsRegistry.metrics();
    return reply.type(metricsRegistry.contentType).send(body);
  });

  const feedback = deps.feedback;
  if (!feedback) return;
  app.withTypeProvider<ZodTypeProvider>().post(
    '/models/:name/feedback',
    {
      config: { access: 'feedback' },
      // 1,000 items of the largest valid form, every character escaped as \uXXXX, fit (about 600 KB).
      bodyLimit: 1024 * 1024,
      schema: {
        summary: 'Record ground truth for served predictions, by request id (one item, or {"items": [...]} of up to 1,000)',
        params: ModelParams,
        body: FeedbackBody,
        response: responses({ 202: FeedbackAccepted }, [400, 401, 403, 429, 404, 414, 413, 415, 503]),
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const body = request.body;
      const items = ('items' in body ? body.items : [body]).map((i) => ({ requestId: i.requestId, row: i.row ?? 0, actual: i.actual }));
      if (!(await feedback.modelExists(name))) throw new HttpError(404, `no model "${name}"`);
      await feedback.record(name, items, callerOf(request).identity);
      metrics.feedback.inc({ model: name }, items.length);
      return reply.code(202).send({ accepted: items.length });
    },
  );
}
