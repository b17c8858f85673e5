import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../activities';
import { sharedComputePool } from '../compute/pool';

export const WORKFLOWS_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../workflows/index.ts');

export interface LifecycleWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Without `compute`, activities use the process's shared compute pool (COMPUTE_THREADS threads). */
  deps: Omit<ActivityDeps, 'compute'> & Partial<Pick<ActivityDeps, 'compute'>>;
  /** A prebuilt workflow bundle (tests build it once); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** WORKER_MAX_CACHED_WORKFLOWS and WORKER_MAX_CONCURRENT_ACTIVITIES: see src/config.ts. */
  limits: { maxCachedWorkflows: number; maxConcurrentActivityTaskExecutions: number; shutdownGraceTime: string };
}

/** A worker running the lifecycle workflows and their activities on one task queue. */
export function createLifecycleWorker(options: LifecycleWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...options.limits,
    activities: createActivities({ ...options.deps, compute: options.deps.compute ?? sharedComputePool() }),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
  });
}
