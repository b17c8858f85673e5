import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TaskInput, TaskName, TaskOutput } from './tasks';
import { ConfigSchema } from '../config';
import { formatZodError } from '../schemas/lifecycle';

/** What a task thread sends back for one job. */
type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerialisedError };

export interface SerialisedError {
  name: string;
  message: string;
  stack?: string;
  /** Set by tasks for bad input that no retry can fix (a FailureType such as DatasetInvalid). */
  failureType?: string;
}

/** A task failed in its thread; `failureType` is set when the input, not the machine, is at fault. */
export class ComputeError extends Error {
  readonly failureType?: string;
  constructor(error: SerialisedError) {
    super(error.message);
    this.name = error.name === 'Error' ? 'ComputeError' : error.name;
    this.failureType = error.failureType;
    if (error.stack) this.stack = error.stack;
  }
}

export class ComputeAborted extends Error {
  override name = 'ComputeAborted';
}

interface Job {
  id: number;
  name: TaskName;
  input: unknown;
  resolve(value: unknown): void;
  reject(error: Error): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  thread: Worker;
  job: Job | null;
}

const BOOTSTRAP = new URL('./thread.mjs', import.meta.url);

/** COMPUTE_THREADS, or one thread per core but one (the main thread keeps a core for the API and heartbeats). */
export function defaultComputeThreads(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.COMPUTE_THREADS;
  const parsed = ConfigSchema.shape.COMPUTE_THREADS.safeParse(raw === '' ? undefined : raw);
  if (!parsed.success) throw new Error(`COMPUTE_THREADS: ${formatZodError(parsed.error).replace(/^\(input\): /, '')}, got "${raw}"`);
  return parsed.data ?? Math.max(1, os.availableParallelism() - 1);
}

/**
 * A small pool of worker threads running the named pure tasks of `tasks.ts` (CSV parsing, validation,
 * fitting, scoring), so the CPU-heavy part of an activity never blocks the event loop that serves the
 * API and sends the activity's heartbeats. Inputs and outputs are structured-clonable (artifact refs
 * and paths in, small results or refs out). Threads start on first use and do not keep the process
 * alive while idle. A job whose signal aborts (the activity was cancelled or timed out) stops its thread,
 * which is replaced on the next job.
 */
export class ComputePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  /** Jobs that returned a result, per task name (tests count trainings with it). */
  readonly completed: Partial<Record<TaskName, number>> = {};
  /** Jobs that failed or were aborted, per task name. */
  readonly failed: Partial<Record<TaskName, number>> = {};

  constructor(readonly size = defaultComputeThreads()) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`compute pool size must be a positive integer, got ${size}`);
  }

  run<K extends TaskName>(name: K, input: TaskInput<K>, options: { signal?: AbortSignal } = {}): Promise<TaskOutput<K>> {
    if (this.closed) return Promise.reject(new Error('the compute pool is closed'));
    if (options.signal?.aborted) return Promise.reject(new ComputeAborted(`task ${name} aborted before it started`));
    return new Promise((resolve, reject) => {
      const job: Job = { id: this.nextId++, name, input, resolve: resolve as (v: unknown) => void, reject, signal: options.signal };
      if (job.signal) {
        job.onAbort = () => this.abort(job);
        job.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Stops every thread; jobs still queued or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.settle(job, new Error('the compute pool was closed'));
    await Promise.all(this.slots.splice(0).map(async (slot) => {
      if (slot.job) this.settle(slot.job, new Error('the compute pool was closed'));
      await slot.thread.terminate();
    }));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.job === null);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.thread.ref();
      slot.thread.postMessage({ id: job.id, name: job.name, input: job.input });
    }
  }

  private spawn(): Slot {
    // No execArgv: the bootstrap registers tsx itself, under `node --import tsx`, vitest or plain node alike.
    const thread = new Worker(BOOTSTRAP, { execArgv: [], name: 'lifecycle-compute' });
    const slot: Slot = { thread, job: null };
    thread.unref();
    thread.on('message', (reply: Reply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = null;
      thread.unref();
      this.settle(job, reply.ok ? null : new ComputeError(reply.error), reply.ok ? reply.value : undefined);
      this.dispatch();
    });
    const lost = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      if (slot.job) this.settle(slot.job, error);
      slot.job = null;
      if (!this.closed) this.dispatch();
    };
    thread.on('error', (err) => lost(new ComputeError({ name: err.name, message: `compute thread failed: ${err.message}`, stack: err.stack })));
    thread.on('exit', (code) => lost(new Error(`compute thread exited with code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private abort(job: Job): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(job, new ComputeAborted(`task ${job.name} aborted while queued`));
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (!slot) return;
    // The thread is busy with a loop that cannot be interrupted: stop it; the next job gets a fresh one.
    this.slots.splice(this.slots.indexOf(slot), 1);
    slot.job = null;
    this.settle(job, new ComputeAborted(`task ${job.name} aborted while running`));
    void slot.thread.terminate();
    this.dispatch();
  }

  private settle(job: Job, error: Error | null, value?: unknown): void {
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    const counts = error ? this.failed : this.completed;
    counts[job.name] = (counts[job.name] ?? 0) + 1;
    if (error) job.reject(error);
    else job.resolve(value);
  }
}

let shared: ComputePool | null = null;
/** The process's pool (COMPUTE_THREADS threads): every worker in the process shares the same cores. */
export function sharedComputePool(): ComputePool {
  shared ??= new ComputePool();
  return shared;
}
