import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NotificationEvent } from '../../src/notifications/events';
import { verifyWebhook } from '../../src/notifications/signing';

export interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
  /** The event when the signature checked out with the path's secret, else why not. */
  verified: { event: NotificationEvent } | { refused: string };
}

/** What a path answers to its n-th request (from 1): a status, and headers (e.g. Retry-After). */
export type Answer = (n: number) => { status: number; headers?: Record<string, string>; body?: string };

/**
 * A webhook receiver on loopback, as a customer would write one: it verifies each request with the
 * secret of the path it came to (verifyWebhook, the raw body) and records it, then answers as told.
 */
export async function startReceiver(paths: Record<string, { secret: string; answer: Answer }>) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const route = paths[path];
      const body = Buffer.concat(chunks).toString('utf8');
      let verified: Received['verified'];
      try {
        verified = { event: verifyWebhook(route?.secret ?? '', req.headers, body) };
      } catch (err) {
        verified = { refused: (err as Error).message };
      }
      received.push({ path, headers: req.headers, body, at: Date.now(), verified });
      const answer = route ? route.answer(received.filter((r) => r.path === path).length) : { status: 404 };
      res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    /** Requests that came to `path`, optionally only those for one event id. */
    at: (path: string, eventId?: string) => received.filter((r) => r.path === path && (eventId === undefined || r.headers['lifecycle-event-id'] === eventId)),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
