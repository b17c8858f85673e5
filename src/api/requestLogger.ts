import type { FastifyBaseLogger } from 'fastify';
import type { FastifyChildLoggerFactory } from 'fastify/types/logger';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type Write = (...args: unknown[]) => void;

/**
 * `request.log` made when a request first writes a line, not for every request: fastify's default
 * makes a pino child per request (its bindings serialised, the redaction set up), which cost a few
 * percent of the serving fast path while, at the default level, a successful request writes nothing.
 * A line below the logger's level is dropped without making the child.
 */
class LazyRequestLogger {
  private made: FastifyBaseLogger | null = null;
  readonly fatal = this.writer('fatal');
  readonly error = this.writer('error');
  readonly warn = this.writer('warn');
  readonly info = this.writer('info');
  readonly debug = this.writer('debug');
  readonly trace = this.writer('trace');
  readonly silent = () => {};

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.real().level = level;
  }
  isLevelEnabled(level: string): boolean {
    return ((this.made ?? this.parent) as FastifyBaseLogger & { isLevelEnabled(l: string): boolean }).isLevelEnabled(level);
  }
  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }
  private writer(level: Level): Write {
    return (...args) => {
      if (this.isLevelEnabled(level)) (this.real()[level] as Write)(...args);
    };
  }
}

/** fastify's `childLoggerFactory`: a lazy child, unless the route sets its own log level (then pino's child at once). */
export const lazyRequestLogger: FastifyChildLoggerFactory = (logger, bindings, options) =>
  options?.level ? logger.child(bindings, options) : (new LazyRequestLogger(logger, bindings) as unknown as FastifyBaseLogger);
