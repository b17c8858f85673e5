import { parentPort } from 'node:worker_threads';
import { TaskFailure, tasks, type TaskName } from './tasks';

if (!parentPort) throw new Error('compute/thread.ts runs inside a worker thread');
const port = parentPort;

/** One job at a time: the pool sends the next only after the reply. Large typed arrays are transferred, not copied. */
port.on('message', async (job: { id: number; name: TaskName; input: unknown }) => {
  try {
    const task = tasks[job.name] as (input: unknown) => Promise<unknown>;
    if (!task) throw new Error(`unknown compute task "${job.name}"`);
    const value = await task(job.input);
    port.postMessage({ id: job.id, ok: true, value });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    port.postMessage({
      id: job.id,
      ok: false,
      error: { name: e.name, message: e.message, stack: e.stack, failureType: e instanceof TaskFailure ? e.failureType : undefined },
    });
  }
});
