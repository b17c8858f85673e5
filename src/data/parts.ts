import { Transform, type Readable } from 'node:stream';
import { quote } from '../domain/quote';
import type { S3Settings } from './s3';
import { SourceError } from './sourceError';

export interface IngestPolicy {
  /** Directories datasets may be read from (INGEST_ROOTS). */
  roots: string[];
  /**
   * Directories holding the product's own files (DATA_DIR: secrets, database, artifacts). Nothing in
   * them is ingestible through a root that merely contains them (the working directory contains
   * `.data`), only through a root inside them that was named for datasets (`DATA_DIR/datasets`).
   */
  protectedDirs: string[];
}

/** Where datasets may come from: local roots, and S3 when the policy carries its settings. */
export interface SourcePolicy extends IngestPolicy {
  /** How to reach S3 (S3_* settings); without them, s3:// URIs are refused. */
  s3?: S3Settings;
  /** INGEST_S3_BUCKETS: the only buckets s3:// datasets may come from; null or absent: any bucket the credentials can read. */
  s3Buckets?: string[] | null;
  /** Places in S3 that hold the product's own files (the artifact store's bucket and prefix): never read as datasets. */
  protectedS3?: { bucket: string; prefix: string }[];
  /** The most parts (files or objects) one URI may resolve to; default MAX_SOURCE_PARTS. */
  maxParts?: number;
}

/** One file or object of a dataset. */
export interface SourcePart {
  /** file:///… (the real path) or s3://bucket/key. */
  uri: string;
  /** bytes */
  size: number;
  /** ETag or mtime+size, to notice an object that changes while read */
  version: string;
  /**
   * Opens it for reading. The stream errors with a SourceError (retryable) if the read breaks off, if it
   * gives more or fewer bytes than `size`, or if the part changed since it was resolved.
   */
  open(): Promise<NodeJS.ReadableStream>;
}

/** A URI may name at most this many files or objects: beyond, narrow the pattern or the prefix. */
export const MAX_SOURCE_PARTS = 10_000;

/** A URI is the caller's own input: quote enough of it to recognise, not a whole hostile payload. */
const URI_CHARS = 200;
export const quoteUri = (uri: string) => quote(uri, URI_CHARS);

/** Plain code-unit order (as S3 lists keys), independent of the locale. */
export const compareCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `source` passed through with its length checked: the result errors with a retryable SourceError if
 * the source errors (a broken connection), ends early or gives more than `size` bytes. Destroying the
 * result destroys the source (an abandoned S3 read releases its connection).
 */
export function guardedRead(source: Readable, what: string, size: number): NodeJS.ReadableStream {
  let seen = 0;
  const broke = (why: string, cause?: unknown) => new SourceError(`reading ${what} failed: ${why}; retrying reads it again`, { retryable: true, cause });
  const out = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      done(seen > size ? broke(`it has more than the ${size} bytes it had when listed (it changed)`) : null, chunk);
    },
    flush(done) {
      done(seen === size ? null : broke(`it ended after ${seen} of ${size} bytes`));
    },
  });
  source.once('error', (err: Error) => out.destroy(broke(`the read broke off after ${seen} of ${size} bytes (${err.message})`, err)));
  out.once('close', () => source.destroy());
  source.pipe(out);
  return out;
}
