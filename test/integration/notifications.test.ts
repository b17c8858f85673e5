import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notificationActivities } from '../../src/activities/notifications';
import { createLogger } from '../../src/logger';
import { DeliveryError, deliverWebhook } from '../../src/notifications/delivery';
import { parseWebhooks } from '../../src/notifications/endpoints';
import { NotificationEvent, type NotificationEventInput } from '../../src/notifications/events';
import { verifyWebhook, WEBHOOK_HEADERS } from '../../src/notifications/signing';
import { pinoTemporalLogger } from '../../src/workers/temporalLogging';
import { DELIVER_NOTIFICATION_WORKFLOW, type DeliveryReport } from '../../src/workflows/notify';
import { failureOf, startHarness, type Harness } from '../support/harness';
import { startReceiver } from '../support/webhookReceiver';

/**
 * Webhook delivery end to end: the product's worker (its real configuration, activities and workflow
 * bundle) on the real Temporal dev server sends signed events to a receiver on loopback, which verifies
 * them as a customer would. Retries are Temporal's, with the policy of src/workflows/notify.ts.
 */
const secret = (name: string) => `${name}-secret-${'s'.repeat(32)}`;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let harness: Harness;

beforeAll(async () => {
  receiver = await startReceiver({
    '/ok': { secret: secret('ok'), answer: () => ({ status: 204 }) },
    '/flaky': { secret: secret('flaky'), answer: (n) => ({ status: n === 1 ? 500 : 200 }) },
    '/busy': { secret: secret('busy'), answer: (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 200 }) },
    '/reject': { secret: secret('reject'), answer: () => ({ status: 400, body: 'unknown event type' }) },
  });
  const webhooks = [
    { name: 'ok', url: `${receiver.url}/ok`, secret: secret('ok'), events: ['model.deployed', 'drift.detected', 'run.failed', 'retraining.started'] },
    { name: 'flaky', url: `${receiver.url}/flaky`, secret: secret('flaky'), events: ['drift.detected'] },
    { name: 'busy', url: `${receiver.url}/busy`, secret: secret('busy'), events: ['retraining.started'] },
    { name: 'reject', url: `${receiver.url}/reject`, secret: secret('reject'), events: ['run.failed'] },
    { name: 'metadata', url: 'http://169.254.169.254/latest/meta-data/', secret: secret('metadata'), events: ['release.promoted'] },
  ];
  harness = await startHarness('notifications', { env: { NOTIFY_WEBHOOKS: JSON.stringify(webhooks) } });
});
afterAll(async () => {
  await harness?.stop();
  await receiver?.stop();
});

const base = { model: 'used-cars', workflow: { id: 'lifecycle-used-cars-1', runId: randomUUID() }, time: new Date().toISOString() };
const events = {
  deployed: (): NotificationEventInput => ({ ...base, id: `evt_${randomUUID()}`, type: 'model.deployed', summary: 'used-cars v3 in production', links: { status: 'http://127.0.0.1:3000/lifecycles/x' }, data: { alias: 'production', version: 3, previousVersion: 2 } }),
  drift: (): NotificationEventInput => ({ ...base, id: `evt_${randomUUID()}`, type: 'drift.detected', summary: 'used-cars: 9 of 20 features drifted', data: { driftedFeatures: ['mileage'], featuresChecked: 20, datasetDrift: true, predictionDrift: null, decay: null } }),
  retraining: (): NotificationEventInput => ({ ...base, id: `evt_${randomUUID()}`, type: 'retraining.started', summary: 'retraining used-cars', data: { trigger: 'drift', reason: 'drift', lifecycleWorkflowId: 'retrain-used-cars' } }),
  failed: (): NotificationEventInput => ({ ...base, id: `evt_${randomUUID()}`, type: 'run.failed', summary: 'used-cars failed in validate', data: { stage: 'validate', failureType: 'DatasetInvalid', message: 'price: not a number' } }),
  promoted: (): NotificationEventInput => ({ ...base, id: `evt_${randomUUID()}`, type: 'release.promoted', summary: 'canary promoted', data: { strategy: 'canary', version: 4, previousVersion: 3 } }),
};

function deliver(event: NotificationEventInput) {
  return harness.client.workflow.start(DELIVER_NOTIFICATION_WORKFLOW, { taskQueue: harness.taskQueue, workflowId: `notification-${event.id}`, args: [event] });
}

/** Activity attempts of the delivery workflow, from its history (activity type, attempt, failure). */
async function attempts(workflowId: string) {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  return { history, json: JSON.stringify(history) };
}

describe('signed webhooks through the product worker', () => {
  it('delivers an event to the endpoints that take its type, signed with each one’s secret; no secret or URL in the history', async () => {
    const event = events.deployed();
    const handle = await deliver(event);
    expect((await handle.result()) as DeliveryReport).toEqual({ eventId: event.id, delivered: ['ok'] });
    const [got] = receiver.at('/ok', event.id);
    expect(receiver.received.filter((r) => r.headers[WEBHOOK_HEADERS.id] === event.id)).toHaveLength(1); // flaky, reject: not subscribed
    expect(got.verified).toEqual({ event: { ...event, links: event.links } });
    expect(got.headers).toMatchObject({ 'content-type': 'application/json', [WEBHOOK_HEADERS.type]: 'model.deployed', [WEBHOOK_HEADERS.id]: event.id });
    expect(Math.abs(Number(got.headers[WEBHOOK_HEADERS.timestamp]) - got.at / 1000)).toBeLessThan(5);
    // Another endpoint's secret does not verify it.
    expect(() => verifyWebhook(secret('flaky'), got.headers, got.body)).toThrow(/signature mismatch/);
    const { json } = await attempts(handle.workflowId);
    expect(json).toContain(event.id);
    expect(json).not.toContain('-secret-');
    expect(json).not.toContain(receiver.url);
  });

  it('retries after a 500, with backoff, the same event id and a fresh signature; the other endpoint gets it once', async () => {
    const event = events.drift();
    const report = (await (await deliver(event)).result()) as DeliveryReport;
    expect(report.delivered.sort()).toEqual(['flaky', 'ok']);
    const flaky = receiver.at('/flaky', event.id);
    expect(flaky).toHaveLength(2);
    expect(flaky.map((r) => 'event' in r.verified)).toEqual([true, true]);
    expect(flaky[1].at - flaky[0].at).toBeGreaterThanOrEqual(1500); // initial interval 2 s
    expect(flaky[1].headers[WEBHOOK_HEADERS.signature]).not.toBe(flaky[0].headers[WEBHOOK_HEADERS.signature]);
    expect(receiver.at('/ok', event.id)).toHaveLength(1);
  });

  it('honours a 429 with Retry-After, and retries it', async () => {
    const event = events.retraining();
    await (await deliver(event)).result();
    const busy = receiver.at('/busy', event.id);
    expect(busy).toHaveLength(2);
    // Retry-After: 3 (seconds), longer than the 2 s backoff would have waited.
    expect(busy[1].at - busy[0].at).toBeGreaterThanOrEqual(2900);
  });

  it('does not retry after a 400: the delivery fails (non-retryable) naming the endpoint, the others still get the event once', async () => {
    const event = events.failed();
    const handle = await deliver(event);
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('NotificationUndelivered');
    expect(failure.message).toMatch(/reject: webhook "reject" answered 400: unknown event type/);
    await new Promise((r) => setTimeout(r, 4000)); // twice the first retry interval
    expect(receiver.at('/reject', event.id)).toHaveLength(1);
    expect(receiver.at('/ok', event.id)).toHaveLength(1);
    const { json } = await attempts(handle.workflowId);
    expect(json).toContain('WebhookRejected');
  });

  it('refuses a link-local (cloud metadata) endpoint without connecting, and does not retry', async () => {
    const event = events.promoted();
    const failure = await failureOf((await deliver(event)).result());
    expect(failure.message).toMatch(/metadata: webhook "metadata": refused: 169\.254\.169\.254 is link-local or a cloud metadata address/);
    expect((await attempts(`notification-${event.id}`)).json).toContain('WebhookAddressRefused');
  });

  it('a captured request replayed after the 5-minute tolerance is refused by the verifier (within it, its event id is a repeat)', async () => {
    const event = events.deployed();
    await (await deliver(event)).result();
    const [got] = receiver.at('/ok', event.id);
    expect(() => verifyWebhook(secret('ok'), got.headers, got.body, { now: got.at + 301_000 })).toThrow(/more than 300s away from now: a replayed request/);
    expect(verifyWebhook(secret('ok'), got.headers, got.body, { now: got.at + 60_000 }).id).toBe(event.id);
  });
});

describe('without an endpoint for the event', () => {
  function capture() {
    let text = '';
    const stream = new Writable({ write: (chunk, _enc, done) => ((text += chunk.toString()), done()) });
    const logger = pinoTemporalLogger(createLogger('info', { format: 'json', destination: stream }));
    return { env: new MockActivityEnvironment({}, { logger }), lines: () => text.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
  }

  it('logs the event (info) and sends nothing when no webhook is configured', async () => {
    const { env, lines } = capture();
    const event = events.drift();
    const before = receiver.received.length;
    expect(await env.run(notificationActivities({}).routeNotification, event)).toEqual([]);
    expect(lines()).toEqual([expect.objectContaining({ level: 30, msg: `notification (no webhook configured): ${event.summary}`, notification: expect.objectContaining({ id: event.id, type: 'drift.detected' }) })]);
    expect(receiver.received.length).toBe(before);
  });

  it('logs it too when webhooks are configured but none takes its type', async () => {
    const { env, lines } = capture();
    const webhooks = parseWebhooks(JSON.stringify([{ url: `${receiver.url}/ok`, secret: secret('ok'), events: ['run.failed'] }]), 'test');
    const event = events.deployed();
    expect(await env.run(notificationActivities({ notifications: { webhooks, allowLinkLocal: false } }).routeNotification, event)).toEqual([]);
    expect(lines()[0]).toMatchObject({ level: 30, msg: expect.stringContaining('no webhook takes this event type') });
  });
});

describe('one request', () => {
  it('gives up at the endpoint’s timeout, and reads at most 4 KiB of an answer', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      res.writeHead(500);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (res.write(chunk));
      };
      res.on('drain', pump);
      pump(); // an endless answer
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const endpoint = (path: string) => parseWebhooks(JSON.stringify([{ name: path.slice(1), url: `${url}${path}`, secret: secret('x'), timeout: '1s' }]), 'test')[0];
    try {
      let started = Date.now();
      const hung = await deliverWebhook(endpoint('/hang'), NotificationEvent.parse(events.deployed()), { allowLinkLocal: false }).catch((e: DeliveryError) => e);
      expect(hung).toBeInstanceOf(DeliveryError);
      expect(hung).toMatchObject({ kind: 'failed', message: expect.stringMatching(/webhook "hang": not reached: no answer within 1s/) });
      expect(Date.now() - started).toBeLessThan(3000);
      started = Date.now();
      const endless = await deliverWebhook(endpoint('/endless'), NotificationEvent.parse(events.deployed()), { allowLinkLocal: false }).catch((e: DeliveryError) => e);
      expect(endless).toMatchObject({ kind: 'failed', message: expect.stringMatching(/^webhook "endless" answered 500: x{200}…$/) });
      expect(Date.now() - started).toBeLessThan(1000); // not read to the timeout
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
