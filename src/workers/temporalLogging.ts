import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error',
};

/** Adapts pino to the SDK's logger, so workflow and activity logs carry their context (ids, type, attempt). */
export function pinoTemporalLogger(log: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => log[LEVELS[level]]({ ...meta }, message);
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
