import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  HeadObjectCommand, PutObjectCommand, UploadPartCommand, type CompletedPart, type S3Client,
} from '@aws-sdk/client-s3';
import { isNotFound, isTransientS3Error, s3ErrorName, s3Hint, s3Status } from '../data/s3';
import {
  ARTIFACT_KEY, ArtifactIntegrityError, artifactKey, checkNamedKey, hashFile, PRIVATE_DIR, PRIVATE_FILE, privateFileStream, verified, verifying,
  type ArtifactKind, type ArtifactRef, type ArtifactStore,
  StagingArtifactStore,
} from './store';

const MiB = 1024 * 1024;

export interface S3StoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix without slashes at either end; '' for the bucket's root. */
  prefix: string;
  /** Local directory for downloads (localFile) and uploads in progress: DATA_DIR/cache. */
  cacheDir: string;
  /** The endpoint, for messages (never with credentials). */
  endpoint?: string;
  /** Files larger than this are uploaded in parts (default 32 MiB). */
  multipartThreshold?: number;
  /** Size of each part (default 16 MiB; S3 wants at least 5 MiB and at most 10,000 parts). */
  partSize?: number;
  /** Parts uploaded at once (default 4): memory is about partSize × this. */
  concurrency?: number;
}

/** An S3 request of the store failed; `retryable` when the network or the server's moment is to blame. */
export class ArtifactStoreError extends Error {
  override name = 'ArtifactStoreError';
  constructor(message: string, readonly retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The artifact store in an S3 bucket (or MinIO): `s3://bucket/prefix/<kind>/<sha[0:2]>/<sha>.<ext>`.
 * A put hashes into a private temporary file first, then uploads under the content address: a single
 * PutObject with the SHA-256 for the server to check, or a multipart upload whose parts are re-hashed
 * and which is completed only if the bytes still match (aborted otherwise). S3 shows an object only once
 * its upload is complete, so a final key never holds half an artifact; an object already there with
 * the right size is not uploaded again. Downloads for localFile() are cached in DATA_DIR/cache, verified
 * and renamed into place; the cache is only a cache and may be deleted at any time.
 */
export class S3ArtifactStore extends StagingArtifactStore implements ArtifactStore {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  private readonly client: S3Client;
  private readonly cacheDir: string;
  private readonly endpoint: string;
  private readonly multipartThreshold: number;
  private readonly partSize: number;
  private readonly concurrency: number;

  constructor(options: S3StoreOptions) {
    super();
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.location = `s3://${this.bucket}${this.prefix ? `/${this.prefix}` : ''}`;
    this.cacheDir = path.resolve(options.cacheDir);
    this.endpoint = options.endpoint ?? 'S3';
    this.partSize = Math.max(5 * MiB, options.partSize ?? 16 * MiB);
    this.multipartThreshold = Math.max(this.partSize, options.multipartThreshold ?? 32 * MiB);
    this.concurrency = Math.max(1, options.concurrency ?? 4);
  }

  /** Hashes and uploads the file; it then becomes the cached copy (moved into DATA_DIR/cache) or is removed. */
  async putFile(file: string, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    artifactKey(kind, '0'.repeat(64), extension);
    const { sha256, bytes } = await hashFile(file);
    const ref = await this.upload(file, kind, sha256, bytes, extension, true);
    await fs.rm(file, { force: true });
    return ref;
  }

  async read(ref: ArtifactRef): Promise<Buffer> {
    const key = this.keyOf(ref);
    const response = await this.request('read', ref.uri, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    const data = await this.request('read', ref.uri, async () => Buffer.from(await response.Body!.transformToByteArray()));
    return verified(ref, data);
  }

  readStream(ref: ArtifactRef): NodeJS.ReadableStream {
    const key = this.keyOf(ref); // a ref outside the store is refused here and now, like the local store does
    const check = verifying(ref);
    this.request('read', ref.uri, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).then(
      (response) => pipeline(response.Body as Readable, check).catch(() => {}),
      (err: Error) => check.destroy(err),
    );
    return check;
  }

  async exists(ref: ArtifactRef): Promise<boolean> {
    const key = this.keyOf(ref);
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return head.ContentLength === ref.bytes;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw this.failure('check', ref.uri, err);
    }
  }

  async localFile(ref: ArtifactRef): Promise<string> {
    const key = this.keyOf(ref);
    const cached = this.cachePath(key);
    if ((await fs.stat(cached).catch(() => null))?.size === ref.bytes) return cached;
    const response = await this.request('download', ref.uri, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
    const tmp = await this.tmpFile();
    try {
      await pipeline(response.Body as Readable, verifying(ref), await privateFileStream(tmp)).catch((err: unknown) => {
        throw err instanceof ArtifactIntegrityError ? err : this.failure('download', ref.uri, err);
      });
      await fs.mkdir(path.dirname(cached), { recursive: true, mode: PRIVATE_DIR });
      await fs.rename(tmp, cached);
      return cached;
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async delete(ref: ArtifactRef): Promise<void> {
    const key = this.keyOf(ref);
    await this.request('delete', ref.uri, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
    await fs.rm(this.cachePath(key), { force: true });
  }

  /** One PutObject: S3 replaces an object whole, so a reader sees the old value or the new one. */
  async putNamed(key: string, data: string): Promise<void> {
    const objectKey = this.namedKey(key);
    const body = Buffer.from(data);
    await this.request('write', this.uriOf(objectKey), () =>
      this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentLength: body.length, ContentType: 'application/octet-stream' })),
    );
  }

  async getNamed(key: string): Promise<string | null> {
    const objectKey = this.namedKey(key);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: objectKey }));
      return await response.Body!.transformToString('utf8');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw this.failure('read', this.uriOf(objectKey), err);
    }
  }

  /** The object key behind a ref; only s3:// URIs of artifacts under this store's bucket and prefix are accepted. */
  keyOf(ref: Pick<ArtifactRef, 'uri'>): string {
    if (!/^s3:\/\//.test(ref.uri)) throw new Error(`artifact URI ${ref.uri} is not an s3:// URI of this store`);
    const base = `${this.location}/`;
    const rest = ref.uri.startsWith(base) ? ref.uri.slice(base.length) : null;
    if (rest === null || !ARTIFACT_KEY.test(rest)) throw new Error(`artifact URI ${ref.uri} is outside the artifact store`);
    return this.objectKey(rest);
  }

  private objectKey(relative: string): string {
    return this.prefix ? `${this.prefix}/${relative}` : relative;
  }

  private uriOf(objectKey: string): string {
    return `s3://${this.bucket}/${objectKey}`;
  }

  /** Named objects live apart from the artifacts, under `<prefix>/named/`. */
  private namedKey(key: string): string {
    checkNamedKey(key);
    return this.objectKey(`named/${key}`);
  }

  /** Downloads are cached by content address: the same bytes whatever bucket they came from. */
  private cachePath(objectKey: string): string {
    const name = objectKey.slice(objectKey.lastIndexOf('/') + 1);
    return path.join(this.cacheDir, name.slice(0, 2), name);
  }

  protected async tmpFile(): Promise<string> {
    const dir = path.join(this.cacheDir, 'tmp');
    await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR });
    return path.join(dir, randomUUID());
  }

  /**
   * Uploads a finished local file under its content address, unless an object of that size is already
   * there (same address, same bytes), and keeps it as the cached copy, so the next localFile() needs no
   * download: linked when `consume` is false (a temporary file the caller removes), else moved.
   */
  protected commit(file: string, kind: ArtifactKind, sha256: string, bytes: number, extension: string): Promise<ArtifactRef> {
    return this.upload(file, kind, sha256, bytes, extension);
  }

  private async upload(file: string, kind: ArtifactKind, sha256: string, bytes: number, extension: string, consume = false): Promise<ArtifactRef> {
    const relative = artifactKey(kind, sha256, extension);
    const key = this.objectKey(relative);
    const uri = this.uriOf(key);
    const existing = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })).then(
      (head) => head.ContentLength,
      (err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw this.failure('check', uri, err);
      },
    );
    if (existing !== bytes) {
      if (bytes <= this.multipartThreshold) await this.putSingle(file, key, uri, sha256, bytes);
      else await this.putMultipart(file, key, uri, sha256, bytes);
    }
    await this.keepInCache(file, key, consume);
    return { uri, sha256, bytes };
  }

  /** The uploaded file becomes the cached copy: moved (putFile, whose caller gave it up) or linked (a temporary file removed after). */
  private async keepInCache(file: string, key: string, consume: boolean): Promise<void> {
    const cached = this.cachePath(key);
    try {
      await fs.mkdir(path.dirname(cached), { recursive: true, mode: PRIVATE_DIR });
      if (consume) {
        await fs.chmod(file, PRIVATE_FILE);
        await fs.rename(file, cached);
      } else {
        await fs.rm(cached, { force: true });
        await fs.link(file, cached);
      }
    } catch {
      // Another filesystem or a race with a concurrent put of the same bytes: the cache is optional.
    }
  }

  private async putSingle(file: string, key: string, uri: string, sha256: string, bytes: number): Promise<void> {
    const body = await fs.readFile(file);
    if (createHash('sha256').update(body).digest('hex') !== sha256) throw new ArtifactIntegrityError(`${file} changed while it was being stored`);
    await this.request('upload', uri, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentLength: bytes,
          // The server checks the bytes it received against our hash and refuses the put if they differ.
          ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
          Metadata: { sha256 },
        }),
      ),
    );
  }

  /** Parts are read in order (hashed on the way), uploaded a few at a time, and completed only if the whole still matches. */
  private async putMultipart(file: string, key: string, uri: string, sha256: string, bytes: number): Promise<void> {
    const partSize = Math.max(this.partSize, Math.ceil(bytes / 10_000 / MiB) * MiB);
    const created = await this.request('upload', uri, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, Metadata: { sha256 } })));
    const uploadId = created.UploadId!;
    const handle = await fs.open(file, 'r');
    try {
      const hash = createHash('sha256');
      const parts: CompletedPart[] = [];
      const inFlight = new Set<Promise<void>>();
      let failed: unknown = null;
      for (let number = 1, offset = 0; offset < bytes; number++, offset += partSize) {
        const length = Math.min(partSize, bytes - offset);
        const body = Buffer.alloc(length);
        for (let read = 0; read < length; ) {
          const { bytesRead } = await handle.read(body, read, length - read, offset + read);
          if (bytesRead === 0) throw new ArtifactIntegrityError(`${file} shrank while it was being stored`);
          read += bytesRead;
        }
        hash.update(body);
        const partNumber = number;
        const upload: Promise<void> = this.request('upload', uri, () =>
          this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: body, ContentLength: length })),
        ).then(
          (answer) => void (parts[partNumber - 1] = { PartNumber: partNumber, ETag: answer.ETag }),
          (err: unknown) => void (failed ??= err),
        );
        inFlight.add(upload);
        void upload.finally(() => inFlight.delete(upload));
        if (inFlight.size >= this.concurrency) await Promise.race(inFlight);
        if (failed) throw failed;
      }
      await Promise.all(inFlight);
      if (failed) throw failed;
      if (hash.digest('hex') !== sha256) throw new ArtifactIntegrityError(`${file} changed while it was being stored`);
      await this.request('upload', uri, () =>
        this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } })),
      );
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId })).catch(() => {});
      throw err;
    } finally {
      await handle.close();
    }
  }

  private async request<T>(what: string, uri: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw this.failure(what, uri, err);
    }
  }

  private failure(what: string, uri: string, err: unknown): Error {
    if (err instanceof ArtifactStoreError || err instanceof ArtifactIntegrityError) return err;
    const status = s3Status(err);
    const name = s3ErrorName(err);
    const message = String((err as Error)?.message ?? err).slice(0, 300);
    const hint = s3Hint(err);
    return new ArtifactStoreError(
      `artifact store ${this.location} at ${this.endpoint}: ${what} ${uri} failed (${status ? `HTTP ${status} ` : ''}${name}: ${message})${hint ? `: ${hint}` : ''}`,
      isTransientS3Error(err),
      { cause: err },
    );
  }
}
