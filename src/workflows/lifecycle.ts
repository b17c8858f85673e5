import { ApplicationFailure, CancellationScope, allHandlersFinished, condition, isCancellation, patched, proxyActivities, setHandler, sleep, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { LifecycleActivities } from '../activities';
import type { Evaluation } from '../activities/evaluation';
import type { CanaryCheck, ShadowReport } from '../domain/release';
import { DecisionUpdate, durationMs, formatZodError, LifecycleInput, type CanaryPolicy, type LifecycleInputRaw, type ShadowPolicy } from '../schemas/lifecycle';
import { approveSignal, controlTaskQueue, decideUpdate, rejectSignal, statusQuery, type LifecycleResult, type LifecycleStatus, type Outcome, type ReleaseStatus, type ReviewedDecision, type Stage } from './definitions';
import { notify, remindWhileWaiting } from './notify';
import { LifecycleStage, ModelName } from './searchAttributes';
import type { NotificationEvent } from '../notifications/events';

type ApprovalEvent = Extract<NotificationEvent, { type: 'approval.waiting' }>;
import { eligibleApprovers, type ApprovalPolicy } from '../domain/approvalPolicy';

/**
 * Timeouts fit what each activity does (README: "Timeouts, heartbeats and threads"); options are not part
 * of the recorded commands' identity, so changing them keeps old histories replaying.
 * Infrastructure errors (database or store down, a lost worker) are retried with backoff, with no attempt
 * limit, until the activity's schedule-to-close budget is spent. Bad input fails at once: activities throw
 * non-retryable ApplicationFailures (DatasetInvalid, DatasetUnavailable, TrainingFailed).
 */
/**
 * Notifications (src/workflows/notify.ts) start child workflows: runs recorded before them replay
 * without, and every notification of a run is decided by this one patch.
 */
const notifying = () => patched('lifecycle-notifications');
/** Rounds of evaluate → approve → deploy before a run whose champion keeps changing gives up (outcome `superseded`). */
const MAX_ROUNDS = 3;
/** Canary checks kept in the status (the latest). */
const MAX_CHECKS_SHOWN = 10;
const retry = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };
const RETRY_BUDGET = '1 day';
/**
 * Long, CPU-heavy stages: their work runs in a compute thread while the activity heartbeats every 2 s, so a
 * worker killed mid-training is noticed within the heartbeat timeout, and the retry starts on a live worker.
 * Start-to-close is generous: a long training must never fail for being long.
 */
const { ingestDataset, validateDataset, trainModel, evaluateCandidate } = proxyActivities<LifecycleActivities>({
  startToCloseTimeout: '6 hours',
  heartbeatTimeout: '15 seconds',
  scheduleToCloseTimeout: RETRY_BUDGET,
  retry,
});
/** The short control activities, on the control task queue (see `controlTaskQueue`): a lost worker costs seconds. */
function controlActivities() {
  const taskQueue = controlTaskQueue(workflowInfo().taskQueue);
  // Registry writes. Deploy moves the alias idempotently by run, and heartbeats: a worker lost mid-deploy costs seconds.
  const { recordOutcome } = proxyActivities<LifecycleActivities>({ taskQueue, startToCloseTimeout: '30 seconds', scheduleToCloseTimeout: RETRY_BUDGET, retry });
  const { deployModel } = proxyActivities<LifecycleActivities>({
    taskQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: RETRY_BUDGET,
    retry,
  });
  const { checkRequester, reviewDecision } = proxyActivities<LifecycleActivities>({ taskQueue, startToCloseTimeout: '15 seconds', retry });
  // Releases: alias moves (an artifact check first) and reads of the prediction log. They heartbeat like
  // the deploy, so a worker lost during one costs seconds, not the start-to-close timeout.
  const { startRelease, endRelease, checkCanary, reportShadow } = proxyActivities<LifecycleActivities>({
    taskQueue,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '10 seconds',
    scheduleToCloseTimeout: RETRY_BUDGET,
    retry,
  });
  return { deployModel, recordOutcome, checkRequester, reviewDecision, startRelease, endRelease, checkCanary, reportShadow };
}
type Control = ReturnType<typeof controlActivities>;

/**
 * The whole life of one model version: ingest → validate → train → evaluate → approval → deploy.
 * Data moves between stages by reference (URI + sha256); every stage is an activity.
 */
export async function modelLifecycle(rawInput: LifecycleInputRaw): Promise<LifecycleResult> {
  const parsed = LifecycleInput.safeParse(rawInput);
  if (!parsed.success) throw ApplicationFailure.nonRetryable(`invalid lifecycle input: ${formatZodError(parsed.error)}`, 'InvalidInput');
  const input = parsed.data;
  const run = trackStatus(input);
  const control = controlActivities();
  const desk = openDecisionDesk(input, run, control.reviewDecision);
  try {
    return await lifecycle(input, run, desk, control);
  } catch (err) {
    // Runs recorded before this change ended without saying so in their status: replay them unchanged.
    if (patched('status-says-failed')) run.fail(err);
    if (!isCancellation(err) && notifying()) {
      const failure = rootFailure(err);
      await notify({
        type: 'run.failed',
        model: input.modelName,
        summary: `${input.modelName}: the run failed in stage ${run.status.stage} (${failure.type}): ${failure.message.slice(0, 300)}`,
        links: failure.reportUrl ? { report: failure.reportUrl } : {},
        data: { stage: run.status.stage, failureType: failure.type, message: failure.message.slice(0, 2000) },
      });
    }
    throw err;
  }
}

async function lifecycle(input: LifecycleInput, run: ReturnType<typeof trackStatus>, desk: ReturnType<typeof openDecisionDesk>, control: Control): Promise<LifecycleResult> {
  const { checkRequester, recordOutcome, deployModel, startRelease, endRelease, checkCanary, reportShadow } = control;
  const requester = await checkRequester({ requestedBy: input.requestedBy, requesterProof: input.requesterProof, approvers: input.approvers });
  Object.assign(run.status, requester);

  run.enter('ingest');
  const { format, encoding, schemaUri } = input.data;
  const dataset = await ingestDataset({ modelName: input.modelName, sourceUri: input.datasetUri, format, encoding, schemaUri });
  run.status.dataset = { sha256: dataset.sha256, uri: dataset.uri, sourceUri: dataset.sourceUri, rowCount: dataset.rows, format: dataset.format, parts: dataset.parts, tableUri: dataset.table?.uri };

  run.enter('validate');
  const validation = await validateDataset({ modelName: input.modelName, dataset, target: input.target, features: input.features, policy: input.data });
  run.status.dataset.rowCount = validation.rowCount;
  const features = validation.features ?? input.features;
  run.status.validation = {
    warnings: validation.warnings,
    reportUri: validation.report.uri,
    reportUrl: validation.reportUrl,
    usableRows: validation.usableRows,
    droppedFeatures: input.features.filter((f) => !features.includes(f)),
  };

  run.enter('train');
  const common = { modelName: input.modelName, dataset, schema: validation.schema, target: input.target, features };
  const candidate = await trainModel({ ...common, trainer: input.trainer, split: input.evaluation, requestedBy: input.requestedBy });
  run.status.candidate = { version: candidate.version, artifactUri: candidate.artifact.uri, sha256: candidate.artifact.sha256, trainingMetrics: candidate.trainingMetrics };

  // Rounds: evaluate against the production version of the moment, approve, release. A deploy moves
  // production only if it still holds the champion the candidate was compared with; if another run got
  // there first, the candidate is evaluated again against the new champion and approved again.
  for (;;) {
    run.enter('evaluate');
    const evaluation = await evaluateCandidate({ ...common, candidate, policy: input.evaluation });
    run.status.evaluation = evaluation;
    run.status.release.champion = evaluation.champion?.version ?? null;
    upsertMemo({ evaluation: summarise(evaluation), version: candidate.version, warnings: validation.warnings, report: run.status.validation.reportUrl ?? null });
    if (!evaluation.gate.blessed) return end('not-blessed');

    const champion = evaluation.champion ? { version: evaluation.champion.version, versionId: evaluation.championVersionId } : null;
    if (input.release.strategy === 'shadow') {
      const report = await shadowRelease(input.release, candidate, champion);
      if (report?.verdict === 'disagrees') return end('not-blessed');
    }

    const decision = await desk.decide(candidate.versionId);
    if (!decision) return end('expired');
    if (decision.decision === 'reject') return end('rejected', [decision.approver]);

    const approvedBy = [...run.status.approvedBy];
    const canary = input.release.strategy === 'canary' ? await canaryRelease(input.release, candidate, champion, approvedBy) : null;
    if (canary === 'rolled-back') return end('rolled-back', approvedBy);

    run.enter('deploy');
    const deployed = await deployModel({ modelName: input.modelName, versionId: candidate.versionId, approvedBy, expectedChampionId: evaluation.championVersionId, endCanary: canary === 'promote' });
    if (!('superseded' in deployed)) {
      run.status.deployment = deployed;
      if (notifying()) {
        const summary = `${input.modelName} v${deployed.version} is in production (was ${deployed.previousVersion ? `v${deployed.previousVersion}` : 'nothing'}), approved by ${approvedBy.join(', ')}`;
        await notify({ type: 'model.deployed', model: input.modelName, summary, data: { alias: 'production', version: deployed.version, previousVersion: deployed.previousVersion } });
        if (canary) await notify({ type: 'release.promoted', model: input.modelName, summary: `${input.modelName}: the canary v${deployed.version} was promoted`, data: { strategy: 'canary', version: deployed.version, previousVersion: deployed.previousVersion } });
      }
      return desk.finish(run.finish('deployed', candidate.version, approvedBy));
    }
    const release = run.status.release;
    release.superseded.push({ round: release.round, champion: champion?.version ?? null, by: deployed.champion?.version ?? null });
    if (canary) await endRelease({ modelName: input.modelName, versionId: candidate.versionId, alias: 'canary', round: release.round, status: 'approved', reason: `production moved to v${deployed.champion?.version} during the canary` });
    if (release.round >= MAX_ROUNDS) return end('superseded', approvedBy);
    release.round++;
    desk.reopen();
  }

  /** Ends the run without a deploy, recording why on the candidate's version. */
  async function end(outcome: Exclude<Outcome, 'deployed'>, decidedBy: string[] = []): Promise<LifecycleResult> {
    // A canary's own status (rolled-back) was written when it was taken out.
    if (outcome !== 'rolled-back') await recordOutcome({ versionId: candidate.versionId, status: outcome, ...(decidedBy.length ? { decidedBy } : {}) });
    return desk.finish(run.finish(outcome, candidate.version, decidedBy));
  }

  /**
   * Shadow: the candidate scores a copy of the model's traffic for the policy's duration, never answering;
   * the agreement with the champion goes into the status and memo for the approver.
   */
  async function shadowRelease(policy: ShadowPolicy, candidate: { versionId: number; version: number }, champion: { version: number } | null): Promise<ShadowReport | null> {
    const release = run.status.release;
    if (!champion) {
      release.notes.push('shadow skipped: there is no production version to compare with');
      return null;
    }
    const since = new Date().toISOString();
    run.enter('shadow', `v${candidate.version} scoring a copy of the traffic until ${new Date(Date.now() + durationMs(policy.duration)).toISOString()}`);
    const alias = { modelName: input.modelName, versionId: candidate.versionId, alias: 'shadow' as const, round: release.round };
    await startRelease({ ...alias, movedBy: `lifecycle ${workflowInfo().workflowId}` });
    let report: ShadowReport | null = null;
    try {
      await sleep(policy.duration);
      report = await reportShadow({ modelName: input.modelName, candidateVersion: candidate.version, championVersion: champion.version, since, policy });
      release.shadow = report;
      upsertMemo({ shadow: report.summary });
    } finally {
      // Also when the run is cancelled: the shadow alias must not outlive its run.
      await CancellationScope.nonCancellable(() => endRelease({ ...alias, status: 'candidate', reason: report?.summary ?? 'the run stopped during its shadow period' }));
    }
    return report;
  }

  /**
   * Canary: `share` of the unpinned traffic goes to the candidate; every `checkEvery` its error rate and
   * latency are compared with the champion's from the prediction log. A failing check rolls it back at
   * once; at the end of `duration` it is promoted if healthy, else rolled back (too little traffic too).
   */
  async function canaryRelease(policy: CanaryPolicy, candidate: { versionId: number; version: number }, champion: { version: number } | null, approvedBy: string[]): Promise<'promote' | 'rolled-back' | null> {
    const release = run.status.release;
    if (!champion) {
      release.notes.push('canary skipped: there is no production version to compare with, so the candidate is deployed directly');
      return null;
    }
    const since = new Date().toISOString();
    const until = Date.now() + durationMs(policy.duration);
    const canary: NonNullable<ReleaseStatus['canary']> = { share: policy.share, since, until: new Date(until).toISOString(), checks: [], verdict: null, reasons: [] };
    release.canary = canary;
    run.enter('canary', `${Math.round(policy.share * 1000) / 10}% of the traffic on v${candidate.version} until ${canary.until}, checked every ${policy.checkEvery}`);
    const alias = { modelName: input.modelName, versionId: candidate.versionId, alias: 'canary' as const, round: release.round };
    await startRelease({ ...alias, trafficShare: policy.share, movedBy: approvedBy.join(',') });
    let check: CanaryCheck | null = null;
    try {
      do {
        await sleep(Math.max(1, Math.min(durationMs(policy.checkEvery), until - Date.now())));
        check = await checkCanary({ modelName: input.modelName, canaryVersion: candidate.version, championVersion: champion.version, since, policy });
        canary.checks = [...canary.checks.slice(-(MAX_CHECKS_SHOWN - 1)), check];
      } while (check.verdict !== 'failing' && Date.now() < until);
    } catch (err) {
      if (isCancellation(err)) await CancellationScope.nonCancellable(() => endRelease({ ...alias, status: 'approved', reason: 'the run was cancelled during its canary' }));
      throw err;
    }
    canary.reasons = check.reasons;
    if (check.verdict === 'healthy') {
      canary.verdict = 'promoted';
      return 'promote';
    }
    canary.verdict = 'rolled-back';
    const why = check.verdict === 'waiting' ? `too little traffic: ${check.reasons.join('; ')}` : check.reasons.filter((r) => r.includes('rose')).join('; ');
    canary.reasons = [why, ...check.reasons.filter((r) => !why.includes(r))];
    upsertMemo({ canary: `rolled back: ${why}` });
    await endRelease({ ...alias, status: 'rolled-back', reason: `canary rolled back: ${why}` });
    if (notifying()) {
      const data = { strategy: 'canary' as const, version: candidate.version, restoredVersion: champion.version, reason: why.slice(0, 2000) };
      await notify({ type: 'release.rolled-back', model: input.modelName, summary: `${input.modelName}: the canary v${candidate.version} was rolled back: ${why.slice(0, 300)}`, data });
    }
    return 'rolled-back';
  }
}

/** Status kept for the `status` query and mirrored into search attributes at each stage change. */
function trackStatus(input: LifecycleInput) {
  const status: LifecycleStatus = {
    modelName: input.modelName,
    stage: 'ingest',
    since: new Date().toISOString(),
    waitingFor: null,
    requestedBy: input.requestedBy,
    trigger: input.trigger,
    requesterVerified: null,
    approvers: input.approvers,
    approvalsRequired: null,
    approvedBy: [],
    approvalDeadline: null,
    dataset: null,
    validation: null,
    candidate: null,
    evaluation: null,
    decisions: [],
    deployment: null,
    release: { strategy: input.release.strategy, round: 1, champion: null, superseded: [], shadow: null, canary: null, notes: [] },
    outcome: null,
    failure: null,
  };
  setHandler(statusQuery, () => status, { description: 'Stage, since when, what the run waits for, metrics and decisions' });
  const run = {
    status,
    enter(stage: Stage, waitingFor: string | null = null) {
      Object.assign(status, { stage, waitingFor, since: new Date().toISOString() });
      upsertSearchAttributes([
        { key: ModelName, value: input.modelName },
        { key: LifecycleStage, value: stage },
      ]);
    },
    finish(outcome: Outcome, version: number, decidedBy: string[]): LifecycleResult {
      status.outcome = outcome;
      run.enter('done');
      upsertMemo({ outcome });
      return { outcome, modelName: input.modelName, version, deployment: status.deployment, decidedBy };
    },
    /** The run failed (bad data, a bug, or cancelled): the status and memo say so, and where and why. */
    fail(err: unknown) {
      const cause = rootFailure(err);
      status.outcome = isCancellation(err) ? 'cancelled' : 'failed';
      status.failure = { stage: status.stage, ...cause };
      upsertMemo({ outcome: status.outcome, failure: status.failure });
    },
  };
  return run;
}

/** The innermost failure of an activity or child (its type names the problem, e.g. DatasetInvalid). */
function rootFailure(err: unknown): { type: string; message: string; reportUrl?: string } {
  type Cause = Error & { cause?: unknown; type?: string; details?: unknown[] };
  let e = err as Cause | undefined;
  while (e?.cause instanceof Error) e = e.cause as Cause;
  // A failed validation's details carry the link to its report (see validateDataset).
  const reportUrl = (e?.details?.[0] as { reportUrl?: unknown } | undefined)?.reportUrl;
  return { type: e?.type ?? e?.name ?? 'Error', message: e?.message ?? String(err), ...(typeof reportUrl === 'string' ? { reportUrl } : {}) };
}

function summarise(e: Evaluation): Record<string, unknown> {
  const m = e.primaryMetric;
  return {
    blessed: e.gate.blessed,
    metric: m,
    candidate: e.candidate.metrics[m],
    baseline: e.baseline.metrics[m],
    champion: e.champion && 'metrics' in e.champion ? e.champion.metrics[m] : null,
    reasons: e.gate.reasons,
  };
}

interface Received {
  decision: 'approve' | 'reject';
  payload: unknown;
  receivedAt: number;
  /** Set for updates: the caller waits for the review of this very decision. */
  answer?: (review: ReviewedDecision) => void;
}

/**
 * Every approve/reject, from the first moment of the run to its end, is reviewed one at a time by an
 * activity that proves the approver's token, judges it, and audits it, whatever the verdict: decisions
 * sent too early or after the run was decided are audited as `not-waiting`. Signals serve the
 * Temporal UI and CLI; the `decide` update serves the API, whose caller gets the verdict on its own decision.
 */
function openDecisionDesk(input: LifecycleInput, run: ReturnType<typeof trackStatus>, reviewDecision: Control['reviewDecision']) {
  const inbox: Received[] = [];
  let reviewing = false;
  let versionId: number | null = null;
  let deadline = Number.POSITIVE_INFINITY;
  let settled: ReviewedDecision | null = null;
  let sequence = 0;

  const receive = (decision: 'approve' | 'reject') => (payload: unknown) => void inbox.push({ decision, payload, receivedAt: Date.now() });
  const help = (decision: string) => `${decision[0].toUpperCase()}${decision.slice(1)} the candidate: {"approver": "<you>", "comment": "...", "token": "<from lifecycle approval-token>"}`;
  setHandler(approveSignal, receive('approve'), { description: help('approve') });
  setHandler(rejectSignal, receive('reject'), { description: help('reject') });
  setHandler(
    decideUpdate,
    (payload) => new Promise<ReviewedDecision>((answer) => {
      const { decision, ...signal } = DecisionUpdate.parse(payload);
      inbox.push({ decision, payload: signal, receivedAt: Date.now(), answer });
    }),
    {
      validator: (payload) => {
        const parsed = DecisionUpdate.safeParse(payload);
        if (!parsed.success) throw new Error(`invalid decision: ${formatZodError(parsed.error)}`);
      },
      description: 'Decide as the API caller: {"decision": "approve"|"reject", "approver", "comment", "token"}; returns the verdict',
    },
  );

  const policy = (): ApprovalPolicy => ({ approvers: input.approvers, requestedBy: input.requestedBy, requesterVerified: run.status.requesterVerified === true });

  const notWaiting = (item: Received): string | null => {
    if (settled) return `the run was already decided: ${settled.decision === 'approve' ? `approved by ${run.status.approvedBy.join(' and ')}` : `rejected by ${settled.approver}`}`;
    if (run.status.outcome) return `the run has ended (${run.status.outcome})`;
    if (item.receivedAt > deadline) return `the approval window closed at ${new Date(deadline).toISOString()}`;
    if (versionId === null) return `the run is in stage "${run.status.stage}"; decisions are taken once it waits for approval`;
    return null;
  };

  void (async () => {
    for (;;) {
      await condition(() => inbox.length > 0);
      reviewing = true;
      const item = inbox.shift()!;
      const review = await reviewDecision({
        modelName: input.modelName,
        versionId,
        decision: item.decision,
        payload: item.payload,
        policy: policy(),
        approvedBy: run.status.approvedBy,
        notWaiting: notWaiting(item),
        receivedAt: new Date(item.receivedAt).toISOString(),
        sequence: sequence++,
      });
      run.status.decisions.push(review);
      if (review.accepted && review.decision === 'approve') run.status.approvedBy.push(review.approver);
      if (review.final) settled = review;
      reviewing = false;
      item.answer?.(review);
    }
  })().catch((err) => {
    // A cancelled run stops reviewing (its main path records the cancellation); anything else is a bug.
    if (!isCancellation(err)) throw err;
  });

  return {
    /** Waits for the decision on the candidate until the approval timeout; null when none came. */
    async decide(candidateVersionId: number): Promise<ReviewedDecision | null> {
      versionId = candidateVersionId;
      deadline = Date.now() + durationMs(input.approvalTimeout);
      run.status.approvalDeadline = new Date(deadline).toISOString();
      const needed = run.status.approvalsRequired ?? 1;
      const from = eligibleApprovers(policy());
      run.enter('awaiting-approval', `${needed === 1 ? 'an approve or reject' : `${needed} approvals or one reject`} from: ${from.join(', ')}`);
      if (notifying()) {
        const waiting = (): ApprovalEvent['data'] => ({ version: run.status.candidate!.version, approvers: from, approvalsRequired: needed, approvedBy: run.status.approvedBy, deadline: run.status.approvalDeadline! });
        const links: Record<string, string> = run.status.validation?.reportUrl ? { report: run.status.validation.reportUrl } : {};
        const about = { model: input.modelName, links };
        await notify({ type: 'approval.waiting', ...about, summary: `${input.modelName} v${waiting().version} waits for approval from ${from.join(', ')}`, data: waiting() });
        if (input.approvalReminderEvery) {
          void remindWhileWaiting({
            every: input.approvalReminderEvery,
            until: () => settled !== null || run.status.outcome !== null,
            deadline,
            event: (reminder) => ({ type: 'approval.reminder', ...about, summary: `reminder ${reminder}: ${input.modelName} v${waiting().version} still waits for approval (until ${run.status.approvalDeadline})`, data: { ...waiting(), reminder } }),
          });
        }
      }
      await condition(() => settled !== null, Math.max(1, deadline - Date.now()));
      // Decisions that arrived before the deadline are still judged, even if their review ends after it.
      await condition(() => settled !== null || (!reviewing && !inbox.some((i) => i.receivedAt <= deadline)));
      return settled;
    },
    /**
     * Opens the approval again for a new round (production moved under the run): the approvals given were
     * for the comparison with the old champion, so they no longer count.
     */
    reopen() {
      settled = null;
      versionId = null;
      run.status.approvedBy = [];
    },
    /** Reviews (and so audits) every decision still queued, and lets update callers have their answers. */
    async finish(result: LifecycleResult): Promise<LifecycleResult> {
      await condition(() => inbox.length === 0 && !reviewing && allHandlersFinished());
      return result;
    },
  };
}
