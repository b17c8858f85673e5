import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyRequestLogger } from '../../src/api/requestLogger';
import { createLogger } from '../../src/logger';

describe('the lazy request logger', () => {
  it('writes what pino would (with the request id, redacted), drops lines below the level, and makes a child only for a request that writes', async () => {
    const out = new PassThrough();
    const lines: Record<string, unknown>[] = [];
    out.on('data', (c: Buffer) => lines.push(...c.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)));
    const log = createLogger('info', { format: 'json', destination: out });
    let children = 0;
    const child = log.child.bind(log);
    log.child = ((...args: Parameters<typeof child>) => (children++, child(...args))) as typeof log.child;
    const app = Fastify({ loggerInstance: log, childLoggerFactory: lazyRequestLogger, disableRequestLogging: true, genReqId: () => 'req-1' });
    app.get('/quiet', async (request) => {
      request.log.debug({ x: 1 }, 'below the level');
      return { ok: true };
    });
    app.get('/loud', async (request) => {
      request.log.warn({ authorization: 'Bearer secret-token' }, 'something to say');
      request.log.info('again');
      return { ok: request.log.level };
    });
    await app.ready();
    const atStart = children; // fastify's own, made once
    expect((await app.inject('/quiet')).json()).toEqual({ ok: true });
    expect((await app.inject('/quiet')).json()).toEqual({ ok: true });
    expect(children - atStart).toBe(0);
    expect((await app.inject('/loud')).json()).toEqual({ ok: 'info' });
    expect(children - atStart).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => [l.level, l.msg, l.reqId, l.authorization])).toEqual([
      [40, 'something to say', 'req-1', '[redacted]'],
      [30, 'again', 'req-1', undefined],
    ]);
    await app.close();
  });
});
