import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { notificationActivities } from '../../src/activities/notifications';
import { createLogger } from '../../src/logger';
import { parseWebhooks } from '../../src/notifications/endpoints';
import type { NotificationEvent } from '../../src/notifications/events';
import { installTemporalRuntime } from '../../src/workers/temporalLogging';
import { controlTaskQueue } from '../../src/workflows/definitions';
import { NOTIFICATION_ACTIVITIES } from '../../src/workflows/notify';
import { until } from '../support/harness';
import { decideSignal, type WaitInput } from '../support/notificationWorkflows';
import { startReceiver } from '../support/webhookReceiver';

/**
 * Approval reminders on the real Temporal dev server: a test workflow waits for a decision as the
 * lifecycle does, with `remindWhileWaiting`, and its notifications go through the real delivery
 * (child workflow, activities on the control queue) to a loopback receiver that verifies them.
 * Intervals are a second: timer firing may lag under load, so counts are bounded, not exact.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const secret = (name: string) => `${name}-secret-${'r'.repeat(32)}`;
const taskQueue = `reminders-${randomUUID().slice(0, 8)}`;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let client: Client;
let connection: Connection;
let stopWorkers: () => Promise<void>;

beforeAll(async () => {
  installTemporalRuntime(createLogger('error')); // the endpoint that is down makes every retry a warning
  receiver = await startReceiver({
    '/ok': { secret: secret('ok'), answer: () => ({ status: 200 }) },
    '/down': { secret: secret('down'), answer: () => ({ status: 503 }) },
    '/refuses': { secret: secret('refuses'), answer: () => ({ status: 400 }) },
  });
  const webhooks = parseWebhooks(
    JSON.stringify([
      { name: 'ok', url: `${receiver.url}/ok`, secret: secret('ok') },
      { name: 'down', url: `${receiver.url}/down`, secret: secret('down'), events: ['approval.waiting'] },
      { name: 'refuses', url: `${receiver.url}/refuses`, secret: secret('refuses'), events: ['approval.reminder'] },
    ]),
    'test',
  );
  const native = await NativeConnection.connect({ address: inject('temporalAddress') });
  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(here, '../support/notificationWorkflows.ts'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error } });
  const activities = notificationActivities({ notifications: { webhooks, allowLinkLocal: false } });
  // As in production (src/workers/worker.ts): workflows on the task queue, notification activities on the control queue.
  const main = await Worker.create({ connection: native, taskQueue, workflowBundle: bundle });
  const control = await Worker.create({ connection: native, taskQueue: controlTaskQueue(taskQueue), activities: Object.fromEntries(NOTIFICATION_ACTIVITIES.map((n) => [n, activities[n]])) });
  const running = Promise.all([main.run(), control.run()]);
  stopWorkers = async () => {
    main.shutdown();
    control.shutdown();
    await running;
    await native.close();
  };
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
}, 5 * 60_000);

afterAll(async () => {
  // The deliveries to the endpoint that is down are still retrying: they are this file's to end.
  for await (const w of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ExecutionStatus = "Running"` })) {
    await client.workflow.getHandle(w.workflowId).terminate('test done').catch(() => {});
  }
  await stopWorkers?.();
  await connection?.close();
  await receiver?.stop();
});

/** The verified events of one run that reached `path`, oldest first. */
function eventsOf(workflowId: string, path = '/ok'): NotificationEvent[] {
  return receiver
    .at(path)
    .flatMap((r) => ('event' in r.verified && r.verified.event.workflow.id === workflowId ? [r.verified.event] : []))
    .sort((a, b) => a.time.localeCompare(b.time));
}
const reminders = (workflowId: string) => eventsOf(workflowId).filter((e) => e.type === 'approval.reminder');

async function run(input: Omit<WaitInput, 'model'>) {
  const workflowId = `wait-${randomUUID().slice(0, 8)}`;
  const handle = await client.workflow.start('waitForDecision', { taskQueue, workflowId, args: [{ model: 'used-cars', ...input }] });
  return { workflowId, handle };
}

describe('approval reminders', () => {
  for (const stopBy of ['condition', 'cancellation'] as const) {
    it(`arrive while the run waits and stop once it is decided (stopped by ${stopBy})`, async () => {
      const { workflowId, handle } = await run({ every: '1s', timeout: '5m', stopBy });
      await until('three reminders', async () => reminders(workflowId).length >= 3, 60_000);
      await handle.signal(decideSignal, 'approve');
      const result = (await handle.result()) as { decision: string; reminders: number; decidedAt: string };
      expect(result.decision).toBe('approve');
      await until('the deployed event', async () => eventsOf(workflowId).some((e) => e.type === 'model.deployed'), 30_000);
      await new Promise((r) => setTimeout(r, 3000)); // three more intervals: nothing more may come

      const got = reminders(workflowId);
      expect(got.length).toBe(result.reminders);
      expect(got.length).toBeGreaterThanOrEqual(3);
      expect(got.map((e) => e.type === 'approval.reminder' && e.data.reminder)).toEqual(got.map((_, i) => i + 1));
      for (const e of got) expect(Date.parse(e.time)).toBeLessThan(Date.parse(result.decidedAt));
      // One second apart in workflow time (timers), give or take the load on the machine.
      for (let i = 1; i < got.length; i++) expect(Date.parse(got[i].time) - Date.parse(got[i - 1].time)).toBeGreaterThanOrEqual(1000);
      const all = eventsOf(workflowId);
      expect(all.filter((e) => e.type === 'approval.waiting')).toEqual([expect.objectContaining({ links: { status: 'http://127.0.0.1:3000/lifecycles/used-cars', report: expect.stringContaining('signature=def') } })]);
      expect(all.filter((e) => e.type === 'model.deployed')).toHaveLength(1);
      expect(new Set(all.map((e) => e.id)).size).toBe(all.length); // every event delivered once to a working endpoint
      expect(all.every((e) => e.workflow.runId === all[0].workflow.runId && e.model === 'used-cars')).toBe(true);
    });
  }

  it('stop at the approval deadline when nobody decides: none at or after it', async () => {
    const { workflowId, handle } = await run({ every: '1s', timeout: '2500ms', stopBy: 'condition' });
    const result = (await handle.result()) as { decision: string | null; reminders: number; deadline: string };
    expect(result.decision).toBeNull();
    expect(result.reminders).toBeGreaterThanOrEqual(1);
    expect(result.reminders).toBeLessThanOrEqual(2);
    await until('every reminder', async () => reminders(workflowId).length === result.reminders, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    expect(reminders(workflowId)).toHaveLength(result.reminders);
    for (const e of reminders(workflowId)) expect(Date.parse(e.time)).toBeLessThan(Date.parse(result.deadline));
  });

  it('an endpoint that is down or refuses never fails nor holds up the run, and the others get each event once', async () => {
    const { workflowId, handle } = await run({ every: '1s', timeout: '5m', stopBy: 'condition' });
    await until('a reminder', async () => reminders(workflowId).length >= 1, 60_000);
    // The delivery of the first reminder failed (400) while the run was still waiting: the run goes on.
    const first = reminders(workflowId)[0];
    await until('the failed delivery', async () => (await client.workflow.getHandle(`notification-${first.id}`).describe()).status.name === 'FAILED', 30_000);
    expect(receiver.at('/refuses', first.id)).toHaveLength(1);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    await handle.signal(decideSignal, 'approve');
    expect(((await handle.result()) as { decision: string }).decision).toBe('approve');
    const waiting = eventsOf(workflowId).find((e) => e.type === 'approval.waiting')!;
    // Its delivery to the endpoint that is down goes on after the run has ended: retried, with the same event id.
    await until('a retry to the endpoint that is down', async () => receiver.at('/down', waiting.id).length >= 2, 30_000);
    expect(receiver.at('/ok', waiting.id)).toHaveLength(1);
    const delivery = await client.workflow.getHandle(`notification-${waiting.id}`).describe();
    expect(delivery.status.name).toBe('RUNNING');
  });

  it('an event sent as the run fails is delivered after the run has closed', async () => {
    const workflowId = `fail-${randomUUID().slice(0, 8)}`;
    const handle = await client.workflow.start('failAfterNotifying', { taskQueue, workflowId, args: ['used-cars'] });
    await expect(handle.result()).rejects.toThrow(/Workflow execution failed/);
    const [event] = await until('the run.failed event', async () => eventsOf(workflowId).length > 0 && eventsOf(workflowId), 30_000);
    expect(event).toMatchObject({ type: 'run.failed', model: 'used-cars', data: { failureType: 'DatasetInvalid' } });
  });
});
