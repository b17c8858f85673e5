import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { sharedComputePool } from '../compute/pool';
import { CONTROL_ACTIVITIES, controlTaskQueue } from '../workflows/definitions';
import { NOTIFICATION_ACTIVITIES } from '../workflows/notify';
import { activityMetrics } from './activityMetrics';

export const WORKFLOWS_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../workflows/index.ts');

export interface LifecycleWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Without `compute`, activities use the process's shared compute pool (COMPUTE_THREADS threads). */
  deps: Omit<ActivityDeps, 'compute'> & Partial<Pick<ActivityDeps, 'compute'>>;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** WORKER_MAX_CACHED_WORKFLOWS, WORKER_MAX_CONCURRENT_ACTIVITIES, WORKER_SHUTDOWN_GRACE: see src/config.ts. */
  limits: { maxCachedWorkflows: number; maxConcurrentActivityTaskExecutions: number; shutdownGraceTime: string };
}

/** The lifecycle's workers in one process, run and stopped together. */
export interface LifecycleWorker {
  run(): Promise<void>;
  shutdown(): void;
  getState(): State;
}

/**
 * Two Temporal workers on one connection: the main one runs the workflows and the long activities on
 * the task queue; the control one runs the short control activities (decision reviews, outcome,
 * deploy, notifications) on the control task queue with slots of its own, so an approval never waits behind a
 * backlog of training (measured: approve p99 under a load of 1,000 runs, see README).
 */
export async function createLifecycleWorker(options: LifecycleWorkerOptions): Promise<LifecycleWorker> {
  const activities = createActivities({ ...options.deps, compute: options.deps.compute ?? sharedComputePool() });
  const common = {
    connection: options.connection,
    namespace: options.namespace,
    shutdownGraceTime: options.limits.shutdownGraceTime,
    // Activity counts and durations for /metrics (started, completed, failed by type).
    interceptors: { activity: [activityMetrics] },
  };
  const main = await Worker.create({
    ...common,
    ...options.limits,
    taskQueue: options.taskQueue,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
  const control = await Worker.create({
    ...common,
    taskQueue: controlTaskQueue(options.taskQueue),
    activities: Object.fromEntries([...CONTROL_ACTIVITIES, ...NOTIFICATION_ACTIVITIES].map((name) => [name, activities[name]])),
  });
  const workers = [main, control];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    async run() {
      const runs = workers.map((w) => w.run());
      try {
        await Promise.all(runs);
      } catch (err) {
        // One stopped on its own: stop the other too, so the pair is restarted as one.
        shutdown();
        await Promise.allSettled(runs);
        throw err;
      }
    },
    shutdown,
    getState: () => workers.find((w) => w.getState() !== 'RUNNING')?.getState() ?? 'RUNNING',
  };
}
