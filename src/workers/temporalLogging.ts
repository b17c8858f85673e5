import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import pino from 'pino';
import type { Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

/**
 * The SDK passes failures as `{ error }` (e.g. "Workflow failed", "Activity failed"). pino serialises only
 * `err` specially; any other key holding an Error came out as `{}` (its fields are not enumerable). Every
 * error-like value gets pino's error serialiser instead: type, message and stack, causes included, plus
 * the failure's own fields (ApplicationFailure type, nonRetryable...). Workflow errors cross a worker
 * thread, so they are recognised by shape, not by instanceof.
 */
function serialiseErrors(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    const errorLike =
      value instanceof Error ||
      (value !== null && typeof value === 'object' && typeof (value as Error).message === 'string' && 'stack' in value);
    if (!errorLike) {
      out[key] = value;
      continue;
    }
    const serialised: Record<string, unknown> = pino.stdSerializers.err(value as Error);
    // pino's `type` is the class name; an ApplicationFailure's own `type` (e.g. DatasetInvalid) matters more.
    const failureType = (value as { type?: unknown }).type;
    if (typeof failureType === 'string') serialised.failureType = failureType;
    out[key] = serialised;
  }
  return out;
}

/** Adapts pino to the SDK's logger, so workflow and activity logs carry their context (ids, type, attempt). */
export function pinoTemporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => log[LEVELS[level]](serialiseErrors(meta), message);
  return {
    log: write,
    trace: (m, meta) => write('TRACE', m, meta),
    debug: (m, meta) => write('DEBUG', m, meta),
    info: (m, meta) => write('INFO', m, meta),
    warn: (m, meta) => write('WARN', m, meta),
    error: (m, meta) => write('ERROR', m, meta),
  };
}

let installed = false;
/** The SDK runtime is per process and can be installed once. */
export function installTemporalRuntime(log: Logger): void {
  if (installed) return;
  Runtime.install({ logger: pinoTemporalLogger(log.child({ component: 'temporal' })), shutdownSignals: [] });
  installed = true;
}
