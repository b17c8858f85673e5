import pino from 'pino';
import pretty from 'pino-pretty';

/** Keys that may carry secrets anywhere in a logged object: never written out. */
const REDACT = [
  'token', '*.token', '*.*.token', 'password', '*.password', 'secret', '*.secret',
  'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization',
  'connectionString', '*.connectionString', 'DATABASE_URL', '*.DATABASE_URL', 'API_TOKENS', '*.API_TOKENS',
  'APPROVAL_SECRET', '*.APPROVAL_SECRET',
  // S3: the variable, and the S3Settings field wherever a config or policy object carries it.
  'S3_SECRET_ACCESS_KEY', '*.S3_SECRET_ACCESS_KEY', 'secretAccessKey', '*.secretAccessKey', '*.*.secretAccessKey', '*.*.*.secretAccessKey',
  // Notification webhooks: the variable (JSON with secrets and URLs, which may be credentials themselves),
  // and each endpoint wherever a config or settings object carries the list.
  'NOTIFY_WEBHOOKS', '*.NOTIFY_WEBHOOKS', 'webhooks[*].secret', '*.webhooks[*].secret', '*.*.webhooks[*].secret',
  'webhooks[*].url', '*.webhooks[*].url', '*.*.webhooks[*].url',
];

export type Logger = pino.Logger;
/** `json`: one JSON object a line (production, log shippers). `pretty`: for people. `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export function createLogger(
  level: string = process.env.LOG_LEVEL ?? 'info',
  options: { format?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const format = options.format ?? process.env.LOG_FORMAT ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && !options.destination && process.stdout.isTTY === true);
  // Redaction happens while pino serialises the line, before either output sees it.
  const opts: pino.LoggerOptions = { level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'lifecycle' } };
  if (!usePretty) return options.destination ? pino(opts, options.destination) : pino(opts);
  return pino(
    opts,
    pretty({
      destination: options.destination ?? 1,
      // Synchronous like pino's own stdout: the last lines before process.exit are not lost.
      sync: true,
      ...(options.destination ? { colorize: false } : {}),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,service',
    }),
  );
}
