import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { applySchedules, type ApplyResult } from './apply';
import { readSchedulesFile } from './file';

export interface ApplyTarget {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
}

/** Reads a schedules file and applies it with a client of its own (the CLI's operator path and the worker's start hook). */
export async function applySchedulesFile(target: ApplyTarget, file: string, options: { dryRun?: boolean } = {}): Promise<ApplyResult> {
  const parsed = await readSchedulesFile(file);
  const connection = await Connection.connect({ address: target.temporalAddress });
  try {
    const client = new Client({ connection, namespace: target.namespace });
    return await applySchedules(client.schedule, parsed, { taskQueue: target.taskQueue, dryRun: options.dryRun });
  } finally {
    await connection.close();
  }
}

/** SCHEDULES_APPLY_ON_START: applies SCHEDULES_FILE as a worker starts; a missing or invalid file fails the start. */
export async function applySchedulesOnStart(config: Config, temporalAddress: string, log: Logger): Promise<void> {
  if (!config.SCHEDULES_APPLY_ON_START) return;
  const result = await applySchedulesFile({ temporalAddress, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE }, config.SCHEDULES_FILE);
  const changed = result.changes.filter((c) => c.change !== 'unchanged');
  log.info({ file: config.SCHEDULES_FILE, changed, unchanged: result.changes.length - changed.length }, 'applied the schedules file');
}
