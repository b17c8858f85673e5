import { createHash } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { ArtifactStore } from '../artifacts/store';
import { currentRun } from './context';

/** How often a long activity reports that it is alive; well under the heartbeat timeouts in lifecycle.ts. */
export const HEARTBEAT_EVERY_MS = 2_000;

/**
 * Runs `work` while heartbeating every couple of seconds, so that the server notices a lost worker within
 * the activity's heartbeat timeout instead of its start-to-close timeout. The heavy part of `work` runs
 * in a compute thread, so this event loop stays free to send them. `work` gets the activity's
 * cancellation signal (a timeout noticed through a heartbeat, or a cancelled run) to stop its thread.
 */
export async function heartbeating<T>(phase: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const beat = () => ctx.heartbeat({ phase, attempt: ctx.info.attempt });
  beat();
  const timer = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    return await work(ctx.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/**
 * Results of expensive steps kept in the artifact store (as its named objects `checkpoints/<key>`) under
 * a key of the run and the activity, so a retry of the same activity (after the database or the worker
 * failed further on, on this worker or another) picks them up instead of redoing the work. `scope` names
 * what the result depends on besides the run (e.g. the champion).
 */
export class Checkpoints {
  constructor(private readonly store: ArtifactStore) {}

  /** The key of the current activity in its run: one per scheduled activity, shared by its attempts. */
  static key(scope: unknown = null): string {
    const info = Context.current().info;
    const { workflowId, runId } = currentRun();
    return createHash('sha256').update(JSON.stringify([workflowId, runId, info.activityType, info.activityId, scope])).digest('hex');
  }

  async get<T>(key: string): Promise<T | null> {
    const text = await this.store.getNamed(`checkpoints/${key}`);
    return text === null ? null : (JSON.parse(text) as T);
  }

  /** Written atomically by the store: a crash leaves either nothing or the whole result. */
  async put(key: string, value: unknown): Promise<void> {
    await this.store.putNamed(`checkpoints/${key}`, JSON.stringify(value));
  }

  /** The checkpointed result of `compute` for this key, computing and keeping it on the first call. */
  async once<T>(key: string, compute: () => Promise<T>, valid: (value: T) => Promise<boolean> = async () => true): Promise<{ value: T; resumed: boolean }> {
    const kept = await this.get<T>(key);
    if (kept !== null && (await valid(kept))) return { value: kept, resumed: true };
    const value = await compute();
    await this.put(key, value);
    return { value, resumed: false };
  }
}
