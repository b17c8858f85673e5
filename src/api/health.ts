import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { Health, Readiness } from './schemas';

/**
 * One dependency's readiness check: resolves when it answers, rejects (with the reason) when it does
 * not. It may resolve with a note (e.g. "restarted 2 times").
 */
export type DependencyCheck = () => Promise<string | void>;

/** Each check gets this long; a dependency that does not answer in time is down. */
export const READINESS_CHECK_TIMEOUT_MS = 2_000;

/**
 * Liveness and readiness, both public:
 * - `GET /health` and `GET /health/live`: the process serves HTTP (a process manager restarts it otherwise);
 *   never looks at dependencies, so a database outage does not get a healthy API restarted.
 * - `GET /health/ready`: each dependency's state (temporal, postgres, worker, …); 200 when all are up,
 *   503 naming the ones that are down (a load balancer stops sending traffic).
 */
export function installHealthRoutes(app: FastifyInstance, checks: Record<string, DependencyCheck>): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const live = { config: { access: 'public' }, schema: { hide: true, response: { 200: Health } } } as const;
  typed.get('/health', live, async () => ({ ok: true }));
  typed.get('/health/live', live, async () => ({ ok: true }));
  typed.get(
    '/health/ready',
    {
      config: { access: 'public' },
      schema: {
        // Not in the document, like /health: probes for process managers and load balancers, not API operations.
        hide: true,
        response: {
          200: { description: 'Every dependency answers', content: { 'application/json': { schema: Readiness } } },
          503: { description: 'A dependency is down: `down` names it, `error` says why', content: { 'application/json': { schema: Readiness } } },
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await run(check)] as const));
      const dependencies = Object.fromEntries(results);
      const down = results.filter(([, r]) => r.state === 'down').map(([name]) => name);
      const body = {
        ready: down.length === 0,
        down,
        ...(down.length ? { error: down.map((name) => `${name} unavailable: ${dependencies[name]!.detail}`).join('; ') } : {}),
        dependencies,
      };
      return reply.code(down.length ? 503 : 200).send(body);
    },
  );
}

async function run(check: DependencyCheck): Promise<{ state: 'up' | 'down'; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const note = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_CHECK_TIMEOUT_MS / 1000} s`)), READINESS_CHECK_TIMEOUT_MS);
      }),
    ]);
    return note ? { state: 'up', detail: note } : { state: 'up' };
  } catch (err) {
    return { state: 'down', detail: firstLine(err) };
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  return (message.split('\n')[0] ?? '').slice(0, 300);
}
