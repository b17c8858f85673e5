import { ComputeError } from '../compute/pool';
import type { TaskInput, TaskName, TaskOutput } from '../compute/tasks';
import type { ActivityDeps } from './deps';
import { FailureType, nonRetryable } from './failures';
import { heartbeating } from './progress';

const FINAL = new Set<string>(Object.values(FailureType));

/**
 * Runs a compute task in the pool while the activity heartbeats. Bad input reported by the task becomes
 * the matching non-retryable failure; anything else (a lost thread, I/O) stays retryable.
 */
export async function compute<K extends TaskName>(deps: ActivityDeps, name: K, input: TaskInput<K>): Promise<TaskOutput<K>> {
  try {
    return await heartbeating(name, (signal) => deps.compute.run(name, input, { signal }));
  } catch (err) {
    if (err instanceof ComputeError && err.failureType && FINAL.has(err.failureType)) {
      throw nonRetryable(err.failureType as (typeof FailureType)[keyof typeof FailureType], err.message);
    }
    throw err;
  }
}
