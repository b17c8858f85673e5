import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { quote } from '../domain/quote';
import { endpointLabel, isNotFound, parseS3Uri, s3Client, s3ErrorName, s3SourceError, s3Status, type S3Settings } from './s3';
import { compareCodeUnits, guardedRead, MAX_SOURCE_PARTS, quoteUri, type SourcePart, type SourcePolicy } from './parts';
import { SourceError } from './sourceError';

/** Listing a prefix stops after this many keys, matching or not: a pattern must not scan a whole lake. */
export const MAX_LISTED_KEYS = 200_000;

/** Characters that can start a glob in a key; the listed prefix is what comes before the first of them. */
const GLOB_START = /[*?[\]{}()!+@\\]/;

/**
 * `s3://bucket/key`, `s3://bucket/prefix/` or `s3://bucket/prefix/pattern*` → the objects it names,
 * sorted by key. Checked before any request: the bucket is allowed (INGEST_S3_BUCKETS), the key names
 * something and has no `.`/`..` segments, and nothing read is the artifact store's own.
 */
export async function resolveS3Source(uri: string, policy: SourcePolicy): Promise<SourcePart[]> {
  const settings = policy.s3;
  if (!settings) throw new SourceError(`${quoteUri(uri)}: reading datasets from S3 needs the S3 settings (S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY)`);
  const { bucket, key } = parseS3Uri(uri);
  if (!key || key === '/') throw new SourceError(`${quoteUri(uri)} names a bucket but no object: give s3://bucket/key, s3://bucket/prefix/ or s3://bucket/prefix/pattern-*.csv`);
  if (key.split('/').some((segment) => segment === '..' || segment === '.')) {
    throw new SourceError(`${quoteUri(uri)} contains a "." or ".." segment: give the key without them`);
  }
  if (policy.s3Buckets && !policy.s3Buckets.includes(bucket)) {
    throw new SourceError(`dataset ${quoteUri(uri)} is in a bucket datasets may not be read from (allowed: ${policy.s3Buckets.join(', ') || 'none'}); see INGEST_S3_BUCKETS`);
  }
  const own = (policy.protectedS3 ?? []).filter((p) => p.bucket === bucket).map((p) => (p.prefix ? `${p.prefix}/` : ''));
  const isOwn = (k: string) => own.some((prefix) => k.startsWith(prefix));
  const ownRefusal = () => new SourceError(`dataset ${quoteUri(uri)} is in the artifact store (ARTIFACT_STORE): the product's own files cannot be ingested`);

  const maxParts = policy.maxParts ?? MAX_SOURCE_PARTS;
  const client = s3Client(settings);
  const scan = picomatch.scan(key);
  const glob = scan.isGlob && GLOB_START.test(key);
  if (!glob && !key.endsWith('/')) {
    if (isOwn(key)) throw ownRefusal();
    return [await headPart(settings, bucket, key, uri)];
  }
  if (scan.negated || scan.negatedExtglob) throw new SourceError(`${quoteUri(uri)}: negated patterns are not supported; name what to read`);
  const listPrefix = glob ? key.slice(0, key.search(GLOB_START)) : key;
  // Everything listed would be the store's own: refuse before asking S3.
  if (own.some((prefix) => listPrefix.startsWith(prefix))) throw ownRefusal();
  // Keys named like hidden or marker files (`.tmp`, `_SUCCESS`) are not data, as for Spark and Arrow.
  const matches = glob
    ? picomatch(key, { dot: false })
    : (k: string) => !k.slice(listPrefix.length).split('/').some((segment) => segment.startsWith('.') || segment.startsWith('_'));

  const parts: SourcePart[] = [];
  let listed = 0;
  let token: string | undefined;
  do {
    const page = await client
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: listPrefix, ContinuationToken: token }))
      .catch((err: unknown) => Promise.reject(s3SourceError(err, settings, quoteUri(uri))));
    for (const object of page.Contents ?? []) {
      listed++;
      const k = object.Key ?? '';
      if (!k || k.endsWith('/') || !matches(k)) continue; // "folder" markers are not data
      if (isOwn(k)) throw ownRefusal();
      parts.push(objectPart(settings, bucket, k, object.Size ?? 0, object.ETag ?? ''));
      if (parts.length > maxParts) throw new SourceError(`${quoteUri(uri)} matches more than ${maxParts.toLocaleString('en-US')} objects: narrow the prefix or the pattern`);
    }
    if (listed >= MAX_LISTED_KEYS && page.IsTruncated) {
      throw new SourceError(`${quoteUri(uri)}: more than ${MAX_LISTED_KEYS.toLocaleString('en-US')} keys under s3://${bucket}/${listPrefix}: give a longer prefix before the first wildcard`);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  if (parts.length === 0) {
    throw new SourceError(`no objects match ${quoteUri(uri)}${glob ? '' : ' (nothing under that prefix)'} at ${endpointLabel(settings)}`);
  }
  return parts.sort((a, b) => compareCodeUnits(a.uri, b.uri));
}

/** One object by its exact key (HEAD needs only read access to it, not the right to list the bucket). */
async function headPart(settings: S3Settings, bucket: string, key: string, uri: string): Promise<SourcePart> {
  const client = s3Client(settings);
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return objectPart(settings, bucket, key, head.ContentLength ?? 0, head.ETag ?? '');
  } catch (err) {
    if (!isNotFound(err)) throw s3SourceError(err, settings, quoteUri(uri));
    // HEAD says only "404": tell a missing bucket from a missing key.
    const bucketError = await client.send(new HeadBucketCommand({ Bucket: bucket })).then(() => null, (e: unknown) => e);
    if (bucketError && isNotFound(bucketError)) throw new SourceError(`${quoteUri(uri)}: no such bucket at ${endpointLabel(settings)}`);
    throw new SourceError(
      `no objects match ${quoteUri(uri)} at ${endpointLabel(settings)}: there is no object with that key (for every object under a prefix, end the URI with "/")`,
    );
  }
}

function objectPart(settings: S3Settings, bucket: string, key: string, size: number, etag: string): SourcePart {
  const uri = `s3://${bucket}/${key}`;
  const what = quote(uri, 200);
  return {
    uri,
    size,
    version: etag,
    async open() {
      let response;
      try {
        // If-Match: a replaced object is refused by the server rather than read as a mix of versions.
        response = await s3Client(settings).send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }));
      } catch (err) {
        if (s3ErrorName(err) === 'PreconditionFailed' || s3Status(err) === 412) {
          throw new SourceError(`${what} changed after it was listed (its ETag is no longer ${etag}); retrying reads the new version`, { retryable: true, cause: err });
        }
        if (isNotFound(err)) throw new SourceError(`${what} was deleted after it was listed; retrying lists it again`, { retryable: true, cause: err });
        throw s3SourceError(err, settings, what);
      }
      const body = response.Body as Readable | undefined;
      if (!body) throw new SourceError(`S3 at ${endpointLabel(settings)} answered ${what} without a body; retry later`, { retryable: true });
      if ((etag && response.ETag && response.ETag !== etag) || (response.ContentLength !== undefined && response.ContentLength !== size)) {
        body.destroy();
        throw new SourceError(`${what} changed after it was listed (ETag ${response.ETag}, ${response.ContentLength} bytes; listed: ${etag}, ${size} bytes); retrying reads the new version`, { retryable: true });
      }
      return guardedRead(body, what, size);
    },
  };
}
