import pino from 'pino';

/** Keys that may carry secrets anywhere in a logged object: never written out. */
const REDACT = [
  'token', '*.token', '*.*.token', 'password', '*.password', 'secret', '*.secret',
  'authorization', '*.authorization', 'req.headers.authorization', 'headers.authorization',
  'connectionString', '*.connectionString', 'DATABASE_URL', '*.DATABASE_URL', 'API_TOKENS', '*.API_TOKENS',
  'APPROVAL_SECRET', '*.APPROVAL_SECRET',
];

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service: 'lifecycle' } });
}
