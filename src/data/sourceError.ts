/**
 * A dataset source that cannot be read. `retryable` says whether trying again later can help: a URI
 * outside the allowed places, wrong credentials or nothing matching cannot (the run fails at once, the
 * API answers 400); a network error, an S3 server error, a read that broke off or an object that changed
 * while it was read can (the activity is retried, the API answers 503).
 */
export class SourceError extends Error {
  override name = 'SourceError';
  readonly retryable: boolean;

  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}
