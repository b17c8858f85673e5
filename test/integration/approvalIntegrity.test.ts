import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleInputRaw } from '../../src/schemas/lifecycle';
import { approveSignal, decideUpdate, rejectSignal } from '../../src/workflows/definitions';
import { usedCarsCsv, USED_CAR_FEATURES } from '../../src/demo/usedCars';
import { failureOf, resultOf, startHarness, waitForStatus, type Harness } from '../support/harness';

/** Each test is an attack that once worked on the skeleton (or a rule that must keep holding). */
let h: Harness;
beforeAll(async () => {
  h = await startHarness('approval');
});
afterAll(async () => h?.stop());

const uniqueModel = () => `trust-${randomUUID().slice(0, 8)}`;
async function input(model: string, overrides: Partial<LifecycleInputRaw> = {}): Promise<LifecycleInputRaw> {
  return {
    modelName: model,
    datasetUri: await h.writeDataset(`${model}-${randomUUID().slice(0, 4)}.csv`, usedCarsCsv(300, 7)),
    target: 'price',
    features: USED_CAR_FEATURES,
    approvers: ['alice', 'bob'],
    requestedBy: 'eve-engineer',
    ...overrides,
  };
}
const waiting = (s: { stage: string }) => s.stage === 'awaiting-approval';

describe('approval integrity', () => {
  it('a token from an earlier run under the same workflow id does not approve a new run (replay across runs)', async () => {
    const model = uniqueModel();
    const workflowId = `replay-${randomUUID().slice(0, 8)}`;
    const first = await h.start(await input(model), workflowId);
    await waitForStatus(first, waiting);
    const oldPayload = await h.decision(first, 'alice');
    await first.signal(rejectSignal, await h.decision(first, 'alice', { decision: 'reject' }));
    expect((await resultOf(first)).outcome).toBe('rejected');

    const second = await h.start(await input(model), workflowId);
    await waitForStatus(second, waiting);
    await second.signal(approveSignal, oldPayload);
    const status = await waitForStatus(second, (s) => s.decisions.length === 1);
    expect(status.stage).toBe('awaiting-approval');
    expect(status.decisions[0]).toMatchObject({ accepted: false, state: 'refused' });
    expect(status.decisions[0].reason).toMatch(/does not prove the identity "alice" for this run/);
    await second.signal(rejectSignal, await h.decision(second, 'bob', { decision: 'reject' }));
    expect((await resultOf(second)).outcome).toBe('rejected');
  });

  it('an approve token cannot reject, an expired token counts for nothing, and a token works once', async () => {
    const model = uniqueModel();
    const handle = await h.start(await input(model));
    const early = await h.decision(handle, 'bob');
    // Sent during training: audited as not-waiting, and spent.
    await handle.signal(approveSignal, early);
    await waitForStatus(handle, waiting);
    await handle.signal(rejectSignal, await h.decision(handle, 'alice')); // approve token on the reject signal
    await handle.signal(approveSignal, await h.decision(handle, 'alice', { ttlMs: -1000 }));
    await handle.signal(approveSignal, early); // replayed from the history
    const status = await waitForStatus(handle, (s) => s.decisions.length === 4);
    expect(status.stage).toBe('awaiting-approval');
    expect(status.decisions.map((d) => d.state)).toEqual(['not-waiting', 'refused', 'refused', 'refused']);
    expect(status.decisions[0].reason).toMatch(/the run is in stage "(ingest|validate|train|evaluate)"; decisions are taken once it waits for approval/);
    expect(status.decisions[1].reason).toBe('the token was issued to approve, not to reject');
    expect(status.decisions[2].reason).toMatch(/the token expired at/);
    expect(status.decisions[3].reason).toMatch(/already used/);

    await handle.signal(approveSignal, await h.decision(handle, 'alice'));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'deployed', decidedBy: ['alice'] });
    const audit = await h.registry.approvalEvents(handle.workflowId);
    expect(audit.map((e) => e.state)).toEqual(['not-waiting', 'refused', 'refused', 'refused', 'accepted']);
  });

  it('a run started outside the API without a requester proof needs two different approvers (no self-granted approval)', async () => {
    const model = uniqueModel();
    // An approver starts a run naming someone else as requester, then approves it.
    const handle = await h.start(await input(model, { requestedBy: 'eve-engineer', approvers: ['alice', 'bob'] }), undefined, { verified: false });
    const status = await waitForStatus(handle, waiting);
    expect(status).toMatchObject({ requesterVerified: false, approvalsRequired: 2 });
    expect(status.waitingFor).toMatch(/2 approvals or one reject from: alice, bob/);

    await handle.signal(approveSignal, await h.decision(handle, 'alice'));
    await handle.signal(approveSignal, await h.decision(handle, 'alice'));
    const half = await waitForStatus(handle, (s) => s.decisions.length === 2);
    expect(half.stage).toBe('awaiting-approval');
    expect(half.decisions.map((d) => [d.state, d.final])).toEqual([['accepted', false], ['refused', false]]);
    expect(half.decisions[1].reason).toMatch(/already approved/);

    await handle.signal(approveSignal, await h.decision(handle, 'bob'));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'deployed', decidedBy: ['alice', 'bob'] });
    expect((await h.registry.resolveAlias(model, 'production'))!.approvedBy).toEqual(['alice', 'bob']);
  });

  it('a forged requester proof is an unverified requester', async () => {
    const handle = await h.start({ ...(await input(uniqueModel())), requesterProof: h.requesterProof('some-other-run', 'eve-engineer') }, undefined, { verified: false });
    expect(await waitForStatus(handle, (s) => s.requesterVerified !== null)).toMatchObject({ requesterVerified: false, approvalsRequired: 2 });
    await handle.terminate('test done');
  });

  it('a run nobody could approve fails at once, before any work', async () => {
    const model = uniqueModel();
    const handle = await h.start(await input(model, { approvers: ['alice'] }), undefined, { verified: false });
    const cause = await failureOf(handle.result());
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toMatch(/2 approver\(s\) other than the requester are needed/);
    expect(await h.registry.listVersions(model)).toEqual([]);
  });

  it('audits a decision that arrives after the run was decided', async () => {
    const handle = await h.start(await input(uniqueModel()));
    await waitForStatus(handle, waiting);
    await handle.signal(approveSignal, await h.decision(handle, 'alice'));
    await handle.signal(rejectSignal, await h.decision(handle, 'bob', { decision: 'reject' }));
    expect((await resultOf(handle)).outcome).toBe('deployed');
    const audit = await h.registry.approvalEvents(handle.workflowId);
    expect(audit.map((e) => [e.approver, e.state])).toEqual([['alice', 'accepted'], ['bob', 'not-waiting']]);
    expect(audit[1].reason).toBe('the run was already decided: approved by alice');
  });

  it('the decide update answers each caller with the verdict on its own decision', async () => {
    const handle = await h.start(await input(uniqueModel()), undefined, { verified: false });
    await waitForStatus(handle, waiting);
    const decide = async (approver: string, decision: 'approve' | 'reject' = 'approve') =>
      handle.executeUpdate(decideUpdate, { args: [{ decision, ...(await h.decision(handle, approver, { decision })) }] });
    // mallory is refused, alice and bob approve: all at the same moment.
    const [m, a, b] = await Promise.all([decide('mallory'), decide('alice'), decide('bob')]);
    // mallory's review may come before or after the run is settled: either way the verdict is about mallory.
    expect(m.approver).toBe('mallory');
    expect([m.state, m.reason]).toSatisfy(([state, reason]: string[]) =>
      (state === 'refused' && /"mallory" is not an approver/.test(reason)) || (state === 'not-waiting' && /already decided: approved by alice and bob|approved by bob and alice/.test(reason)));
    expect(a).toMatchObject({ approver: 'alice', state: 'accepted' });
    expect(b).toMatchObject({ approver: 'bob', state: 'accepted' });
    expect([a.final, b.final].sort()).toEqual([false, true]);
    expect(await resultOf(handle)).toMatchObject({ outcome: 'deployed' });
    expect((await h.registry.approvalEvents(handle.workflowId))).toHaveLength(3);
  });

  it('the decide update refuses a malformed decision in its validator', async () => {
    const handle = await h.start(await input(uniqueModel()));
    await waitForStatus(handle, (s) => s.requesterVerified !== null);
    const err = await handle.executeUpdate(decideUpdate, { args: [{ decision: 'maybe', approver: 'alice' }] }).catch((e: Error) => e);
    expect(String((err as Error).cause ?? err)).toMatch(/decision: .*token: is required/s);
    await handle.terminate('test done');
  });
});
