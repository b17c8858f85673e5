import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import type { NotificationEvent } from '../../src/notifications/events';
import { approveSignal } from '../../src/workflows/definitions';
import { callApi, resultOf, startHarness, until, waitForStatus, type Harness } from '../support/harness';
import { startReceiver } from '../support/webhookReceiver';

/**
 * The lifecycle's and the rollback's notifications, as a receiver on loopback verifies them: waiting for
 * approval (with reminders that stop once decided), deployed, failed, rolled back.
 */
const SECRET = `lifecycle-notifications-${'s'.repeat(32)}`;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let h: Harness;

beforeAll(async () => {
  receiver = await startReceiver({ '/all': { secret: SECRET, answer: () => ({ status: 204 }) } });
  h = await startHarness('lifecycle-notifications', { api: true, env: { NOTIFY_WEBHOOKS: JSON.stringify([{ name: 'ops', url: `${receiver.url}/all`, secret: SECRET }]) } });
});
afterAll(async () => {
  await h?.stop();
  await receiver?.stop();
});

/** Verified events about a model, in arrival order (a delivery retried shows once). */
function eventsOf(model: string): NotificationEvent[] {
  const seen = new Set<string>();
  const events: NotificationEvent[] = [];
  for (const r of receiver.at('/all')) {
    if (!('event' in r.verified)) throw new Error(`a request failed verification: ${r.verified.refused}`);
    if (r.verified.event.model !== model || seen.has(r.verified.event.id)) continue;
    seen.add(r.verified.event.id);
    events.push(r.verified.event);
  }
  return events;
}
const types = (model: string) => eventsOf(model).map((e) => e.type);
const input = (modelName: string, datasetUri: string, extra: Record<string, unknown> = {}) => ({
  modelName, datasetUri, target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'], requestedBy: 'eve-engineer', ...extra,
});

describe('notifications of a model\'s life', () => {
  it('tells approvers a run waits, reminds them until it is decided, then says it deployed; a rollback says so too', async () => {
    const model = `notify-${randomUUID().slice(0, 8)}`;
    const run = await h.start(input(model, await h.writeDataset(`${model}.csv`, usedCarsCsv(600, 1)), { approvalReminderEvery: '1s', trainer: { name: 'ridge', params: { alpha: 1e6 } }, evaluation: { mustBeatBaseline: false } }));
    await waitForStatus(run, (s) => s.stage === 'awaiting-approval');
    const waiting = await until('approval.waiting', async () => eventsOf(model).find((e) => e.type === 'approval.waiting'));
    expect(waiting).toMatchObject({ workflow: { id: run.workflowId }, data: { version: 1, approvers: ['alice'], approvalsRequired: 1 } });
    expect(waiting.links.report).toMatch(/\/reports\/view\?/);
    await until('two reminders', async () => types(model).filter((t) => t === 'approval.reminder').length >= 2, 15_000);

    await run.signal(approveSignal, await h.decision(run, 'alice'));
    expect((await resultOf(run)).outcome).toBe('deployed');
    const deployed = await until('model.deployed', async () => eventsOf(model).find((e) => e.type === 'model.deployed'));
    expect(deployed.data).toEqual({ alias: 'production', version: 1, previousVersion: null });
    const reminders = types(model).filter((t) => t === 'approval.reminder').length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(types(model).filter((t) => t === 'approval.reminder').length).toBe(reminders); // none after the decision
    const numbers = eventsOf(model).flatMap((e) => (e.type === 'approval.reminder' ? [e.data.reminder] : []));
    expect(numbers).toEqual(numbers.map((_, i) => i + 1));

    // v1 is weak on purpose: v2 beats it, deploys, and is rolled back.
    const second = await h.start(input(model, await h.writeDataset(`${model}-2.csv`, usedCarsCsv(600, 2)), { approvalReminderEvery: null }));
    await waitForStatus(second, (s) => s.stage === 'awaiting-approval');
    await second.signal(approveSignal, await h.decision(second, 'alice'));
    expect((await resultOf(second)).outcome).toBe('deployed');
    const rolled = await callApi(h.api!.url, 'POST', `/models/${model}/rollback`, 'eve-engineer', { reason: 'v2 misprices vans' });
    expect(rolled.status).toBe(200);
    const event = await until('model.rolled-back', async () => eventsOf(model).find((e) => e.type === 'model.rolled-back'));
    expect(event).toMatchObject({ data: { alias: 'production', fromVersion: 2, toVersion: 1, reason: 'v2 misprices vans' } });
    expect(event.summary).toMatch(/rolled back from v2 to v1 by eve-engineer/);
    expect(types(model).filter((t) => t === 'model.deployed')).toHaveLength(2);
  }, 120_000);

  it('says a run failed, where and why', async () => {
    const model = `notify-${randomUUID().slice(0, 8)}`;
    const run = await h.start(input(model, await h.writeDataset(`${model}.csv`, usedCarsCsv(300, 3)), { target: 'no_such_column' }));
    await expect(run.result()).rejects.toThrow();
    const failed = await until('run.failed', async () => eventsOf(model).find((e) => e.type === 'run.failed'));
    expect(failed.data).toMatchObject({ stage: 'validate', failureType: 'DatasetInvalid' });
    expect(failed.data.message).toMatch(/no_such_column/);
    expect(failed.links.report).toMatch(/\/reports\/view\?/);
  }, 60_000);
});
