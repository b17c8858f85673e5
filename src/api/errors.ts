import { isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { postgresUnavailable } from '../registry/db';
import { ModelNotDeployedError, ModelUnavailableError, PredictionError } from '../serving/predictor';
import { RowsError } from '../serving/rows';

/** An answer the API chose: the status code and a message for the client. */
export class HttpError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

/** gRPC codes that mean "Temporal cannot be reached right now": UNAVAILABLE, DEADLINE_EXCEEDED. */
const TEMPORAL_UNAVAILABLE = new Set([14, 4]);

/**
 * The gRPC failure (UNAVAILABLE, DEADLINE_EXCEEDED) under `err` when Temporal could not be reached:
 * the client's ServiceError wraps it as its cause; a bare grpc-js error carries the code itself.
 */
export function temporalUnavailable(err: unknown): { code: number; details: string } | null {
  for (let e = err as { cause?: unknown; code?: unknown; details?: unknown; name?: string } | undefined; e && typeof e === 'object'; e = e.cause as typeof e) {
    if ((isGrpcServiceError(e) || e.name === 'ServiceError') && typeof e.code === 'number' && TEMPORAL_UNAVAILABLE.has(e.code)) {
      return { code: e.code, details: typeof e.details === 'string' && e.details ? e.details : String((e as { message?: unknown }).message ?? '') };
    }
  }
  return null;
}

function unavailableMessage(dependency: string, detail: string): string {
  const first = (detail.split('\n')[0] ?? '').trim().slice(0, 200);
  return `${dependency} unavailable: ${first || 'no answer'}; retry later`;
}

/** `/rows/0/year` → `rows[0].year`: the way the serving code names fields too. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path ? `${path}.${segment}` : segment), '');
}

/** Requests whose failure the error handler logged: the request log adds no second line for them. */
export const failureLogged = new WeakSet<FastifyRequest>();

/** Maps every failure to one status and an `ErrorBody`; only unexpected failures are logged as errors. */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const send = (status: number, error: string) => reply.code(status).send({ error });
  if (hasZodFastifySchemaValidationErrors(err)) {
    const problems = err.validation.map((v) => `${fieldPath(v.instancePath) || `(${err.validationContext ?? 'request'})`}: ${v.message}`);
    return send(400, `invalid ${err.validationContext ?? 'request'}: ${problems.join('; ')}`);
  }
  if (err instanceof HttpError) return send(err.statusCode, err.message);
  if (err instanceof RowsError) return send(400, err.message);
  if (err instanceof PredictionError) return send(422, err.message);
  if (err instanceof ModelNotDeployedError) return send(404, err.message);
  if (err instanceof ModelUnavailableError) return send(503, err.message);
  if (err instanceof WorkflowNotFoundError) return send(404, `no lifecycle run "${(request.params as { id?: string }).id}"`);
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return send(413, `the body is larger than the ${request.routeOptions.bodyLimit} bytes this route accepts`);
  const temporal = temporalUnavailable(err);
  if (temporal) {
    request.log.warn({ err: err.message, grpcCode: temporal.code }, 'temporal unavailable');
    failureLogged.add(request);
    return send(503, unavailableMessage('temporal', temporal.code === 4 ? `no answer before the deadline (${temporal.details})` : temporal.details));
  }
  if (postgresUnavailable(err)) {
    request.log.warn({ err: err.message, code: err.code }, 'postgres unavailable');
    failureLogged.add(request);
    return send(503, unavailableMessage('postgres', err.message || String(err.code)));
  }
  // fastify's own refusals (415 media type, 400 empty body, ...) carry a client status and a clear message.
  if (err.statusCode && err.statusCode < 500) return send(err.statusCode, err.message);
  request.log.error({ err }, 'request failed');
  failureLogged.add(request);
  return send(500, 'internal error');
}

/** The message at the root of an error's causes (a failed workflow's: the activity's ApplicationFailure, which names the problem). */
export function rootMessage(err: Error): string {
  let e: (Error & { cause?: unknown }) | undefined = err;
  while (e?.cause instanceof Error) e = e.cause as Error & { cause?: unknown };
  return e?.message ?? String(err);
}
