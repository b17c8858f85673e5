import { S3Client } from '@aws-sdk/client-s3';
import { quote, sanitize } from '../domain/quote';
import { SourceError } from './sourceError';

/**
 * How to reach S3 (or an S3-compatible server such as MinIO), from S3_* settings. Shared by the artifact
 * store and the dataset sources. The secret is never part of a message or a log line (see logger.ts).
 */
export interface S3Settings {
  /** S3_ENDPOINT: an S3-compatible server, e.g. http://127.0.0.1:9000; null: AWS S3. */
  endpoint: string | null;
  region: string;
  /** Both null: the AWS SDK's default credential chain (AWS_* variables, profiles, instance roles). */
  accessKeyId: string | null;
  secretAccessKey: string | null;
  /** Bucket in the path (http://host/bucket/key) rather than the host name: MinIO needs it. */
  forcePathStyle: boolean;
  /** Unsigned requests, for public buckets. */
  anonymous: boolean;
}

/** Connecting gives up after this; a connected socket idle for `IDLE_MS` is closed (a stalled read fails). */
const CONNECT_MS = 5_000;
const IDLE_MS = 60_000;

/** The one way the product builds an S3 client. */
export function createS3Client(settings: S3Settings): S3Client {
  const credentials = settings.anonymous
    ? async () => ({ accessKeyId: '', secretAccessKey: '' })
    : settings.accessKeyId && settings.secretAccessKey
      ? { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey }
      : undefined;
  return new S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    ...(credentials ? { credentials } : {}),
    // Public buckets: requests go out unsigned (the SDK still asks for an identity, hence the empty one).
    ...(settings.anonymous ? { signer: { sign: async (request: unknown) => request } as never } : {}),
    requestHandler: { connectionTimeout: CONNECT_MS, requestTimeout: IDLE_MS },
    maxAttempts: 3,
  });
}

const clients = new WeakMap<S3Settings, S3Client>();

/** One client per settings object (the config's), reused by the store and the sources: it pools connections. */
export function s3Client(settings: S3Settings): S3Client {
  let client = clients.get(settings);
  if (!client) clients.set(settings, (client = createS3Client(settings)));
  return client;
}

/** The endpoint for messages: the server without any user:password part, or AWS and the region. */
export function endpointLabel(settings: S3Settings): string {
  if (!settings.endpoint) return `AWS S3 (region ${settings.region})`;
  try {
    const url = new URL(settings.endpoint);
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  } catch {
    return sanitize(settings.endpoint, 100);
  }
}

/** S3's bucket naming rules (lower case, digits, dots and hyphens, 3–63 characters). */
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/key` → bucket and key (the key may be empty or end with "/"). Throws on anything else. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(uri);
  if (!match) throw new SourceError(`${quote(uri, 200)} is not an s3://bucket/key URI`);
  const [, bucket, key = ''] = match;
  if (!BUCKET_NAME.test(bucket)) throw new SourceError(`${quote(uri, 200)} names no valid S3 bucket (${quote(bucket, 70)}): bucket names are 3–63 lower-case letters, digits, dots and hyphens`);
  return { bucket, key };
}

interface AwsError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

export const s3ErrorName = (err: unknown): string => String((err as AwsError)?.name ?? (err as AwsError)?.code ?? 'Error');
export const s3Status = (err: unknown): number | undefined => (err as AwsError)?.$metadata?.httpStatusCode;

/** A missing object or bucket (HEAD answers a bare 404 "NotFound"). */
export function isNotFound(err: unknown): boolean {
  const name = s3ErrorName(err);
  return name === 'NotFound' || name === 'NoSuchKey' || (s3Status(err) === 404 && name !== 'NoSuchBucket');
}

/** Wrong, unknown or expired credentials: retrying with the same settings cannot help. */
const CREDENTIAL_ERRORS = new Set([
  'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidToken', 'ExpiredToken', 'TokenRefreshRequired',
  'AuthorizationHeaderMalformed', 'InvalidSecurity', 'MissingSecurityHeader', 'CredentialsProviderError',
  'InvalidClientTokenId', 'UnrecognizedClientException', 'AuthorizationQueryParametersError',
]);
const ACCESS_ERRORS = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem', 'Forbidden']);
/** Failures of the network or of the server's moment: retrying later can help. */
const TRANSIENT_ERRORS = new Set([
  'SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeoutException', 'ThrottlingException',
  'Throttling', 'TimeoutError', 'RequestTimeTooSkewed', 'ServerNotInitialized', 'XMinioServerNotInitialized', 'XMinioStorageFull',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'ENETDOWN', 'EHOSTDOWN', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET',
]);

/** Whether an S3 SDK or network failure may go away on its own. */
export function isTransientS3Error(err: unknown): boolean {
  const e = err as AwsError & { cause?: unknown };
  const name = s3ErrorName(err);
  const status = s3Status(err);
  if (CREDENTIAL_ERRORS.has(name) || ACCESS_ERRORS.has(name)) return false;
  if (TRANSIENT_ERRORS.has(name) || NETWORK_CODES.has(String(e?.code ?? name))) return true;
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  // No HTTP answer at all (a socket error, an aborted response): the network's doing.
  return true;
}

/** What to check for a failure that retrying will not fix, or '' (for the artifact store's messages). */
export function s3Hint(err: unknown): string {
  const name = s3ErrorName(err);
  const status = s3Status(err);
  if (name === 'CredentialsProviderError') return 'no credentials were found: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS credentials in the environment)';
  if (CREDENTIAL_ERRORS.has(name) || ACCESS_ERRORS.has(name) || status === 403) {
    return 'wrong credentials or no permission: check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, that S3_ENDPOINT and S3_REGION name the server they belong to, and the bucket policy';
  }
  if (name === 'NoSuchBucket') return 'no such bucket: create it, or fix ARTIFACT_STORE';
  if (name === 'PermanentRedirect' || status === 301) return 'the bucket is in another region: set S3_REGION';
  return '';
}

/** The message with anything that looks like the configured secret taken out, cut short. */
export function scrubbed(message: string, settings: S3Settings, max = 200): string {
  const secret = settings.secretAccessKey;
  const clean = secret && secret.length >= 4 ? message.split(secret).join('[redacted]') : message;
  return sanitize(clean, max);
}

/**
 * An S3 failure as a SourceError that says what went wrong with `what` (a quoted URI), where (the
 * endpoint), which settings to check, and whether retrying can help. Never includes the secret.
 */
export function s3SourceError(err: unknown, settings: S3Settings, what: string): SourceError {
  if (err instanceof SourceError) return err;
  const name = s3ErrorName(err);
  const status = s3Status(err);
  const where = endpointLabel(settings);
  const detail = scrubbed(String((err as AwsError)?.message ?? err), settings);
  if (CREDENTIAL_ERRORS.has(name)) {
    const hint =
      name === 'CredentialsProviderError'
        ? 'no credentials were found: set S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (or AWS credentials in the environment), or S3_ANONYMOUS=true for a public bucket'
        : name === 'AuthorizationHeaderMalformed'
          ? 'check S3_REGION and S3_ENDPOINT'
          : 'check S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (and that S3_ENDPOINT and S3_REGION name the server they belong to)';
    return new SourceError(`S3 at ${where} refused the credentials while reading ${what} (${name}): ${hint}`, { cause: err });
  }
  if (ACCESS_ERRORS.has(name) || status === 403) {
    return new SourceError(
      `S3 at ${where} denied access to ${what} (${name === 'Unknown' ? 'HTTP 403' : name}): check that the credentials in S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY ` +
        `(or S3_ANONYMOUS) may list and read it, and the bucket's policy`,
      { cause: err },
    );
  }
  if (name === 'NoSuchBucket') return new SourceError(`${what}: no such bucket at ${where}`, { cause: err });
  if (name === 'PermanentRedirect' || status === 301) return new SourceError(`${what}: the bucket is in another region than S3_REGION (${sanitize(settings.region)}); set S3_REGION to the bucket's region`, { cause: err });
  if (isTransientS3Error(err)) {
    const code = String((err as AwsError)?.code ?? name);
    return new SourceError(`S3 at ${where} failed while reading ${what} (${status ? `HTTP ${status} ` : ''}${code}: ${detail}); retry later`, { retryable: true, cause: err });
  }
  return new SourceError(`S3 at ${where} refused reading ${what} (${status ? `HTTP ${status} ` : ''}${name}: ${detail})`, { cause: err });
}

/**
 * `s3://bucket` or `s3://bucket/some/prefix` (ARTIFACT_STORE) → bucket and prefix without slashes at
 * either end. Throws an Error naming what is wrong.
 */
export function parseS3Location(uri: string): { bucket: string; prefix: string } {
  const { bucket, key } = parseS3Uri(uri);
  const prefix = key.replace(/^\/+|\/+$/g, '');
  if (prefix && prefix.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new SourceError(`${quote(uri, 200)} has an empty, "." or ".." segment in its prefix`);
  }
  return { bucket, prefix };
}
