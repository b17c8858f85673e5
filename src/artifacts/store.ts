import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A stored artifact, passed between activities instead of the data itself. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  bytes: number;
}

export type ArtifactKind = 'datasets' | 'models' | 'reports';
export const ARTIFACT_KINDS: readonly ArtifactKind[] = ['datasets', 'models', 'reports'];

/**
 * Where datasets, models and reports are kept, by content: the same bytes always get the same address
 * (`<kind>/<sha[0:2]>/<sha>.<ext>`). Two implementations: LocalArtifactStore (the embedded default) and
 * S3ArtifactStore (ARTIFACT_STORE=s3://bucket/prefix). Neither ever shows a half-written artifact under
 * its final name, and both refuse refs that point outside the store.
 */
export interface ArtifactStore {
  /** Where artifacts live, for logs and the README: a file:// directory or s3://bucket/prefix. */
  readonly location: string;
  putStream(source: NodeJS.ReadableStream, kind: ArtifactKind, extension: string): Promise<ArtifactRef>;
  putBytes(data: Uint8Array | string, kind: ArtifactKind, extension: string): Promise<ArtifactRef>;
  /** Stores a finished local file (e.g. a Parquet file DuckDB wrote), hashing it; the local store may move it (rename), so the caller must not use the path afterwards. */
  putFile(file: string, kind: ArtifactKind, extension: string): Promise<ArtifactRef>;
  /** Reads an artifact whole; refuses bytes that do not match ref.sha256. */
  read(ref: ArtifactRef): Promise<Buffer>;
  /** Streams an artifact; the hash is checked at the end (the stream errors on a mismatch). */
  readStream(ref: ArtifactRef): NodeJS.ReadableStream;
  /** True when the artifact is stored with its recorded size. */
  exists(ref: ArtifactRef): Promise<boolean>;
  /** A local file holding the artifact's verified bytes: the stored file itself for the local store, a cached download (DATA_DIR/cache, hash-checked, atomic) for S3. */
  localFile(ref: ArtifactRef): Promise<string>;
  /** Idempotent. */
  delete(ref: ArtifactRef): Promise<void>;
  /** Small mutable named objects (checkpoints): written atomically, null when absent. key matches /^[a-z0-9/_-]+$/ */
  putNamed(key: string, data: string): Promise<void>;
  getNamed(key: string): Promise<string | null>;
}

export const PRIVATE_FILE = 0o600;
export const PRIVATE_DIR = 0o700;

export class ArtifactIntegrityError extends Error {
  override name = 'ArtifactIntegrityError';
}

/** `csv`, `gz`, `parquet`, `json`, `html`, `onnx`, …: lower-case letters and digits only, so never a path. */
export function checkExtension(extension: string): void {
  if (!/^[a-z0-9]{1,10}$/.test(extension)) throw new Error(`bad artifact extension "${extension}"`);
}

export function checkKind(kind: string): asserts kind is ArtifactKind {
  if (!ARTIFACT_KINDS.includes(kind as ArtifactKind)) throw new Error(`bad artifact kind "${kind}"`);
}

/** Named objects: lower-case segments of letters, digits, `_` and `-`, no empty segment (so no `..`, no absolute path). */
export function checkNamedKey(key: string): void {
  if (!/^[a-z0-9_-]+(\/[a-z0-9_-]+)*$/.test(key) || key.length > 512) throw new Error(`bad named object key "${key.slice(0, 100)}"`);
}

/** `<kind>/<sha[0:2]>/<sha>.<ext>`: the address of an artifact inside any store. */
export function artifactKey(kind: ArtifactKind, sha256: string, extension: string): string {
  checkKind(kind);
  checkExtension(extension);
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`bad sha256 "${sha256.slice(0, 80)}"`);
  return `${kind}/${sha256.slice(0, 2)}/${sha256}.${extension}`;
}

/** A key as artifactKey makes them; anything else in a ref (`..`, other folders) is refused. */
export const ARTIFACT_KEY = /^(datasets|models|reports)\/[0-9a-f]{2}\/[0-9a-f]{64}\.[a-z0-9]{1,10}$/;

export const integrityError = (ref: ArtifactRef, sha256: string, bytes: number) =>
  new ArtifactIntegrityError(`artifact ${ref.uri} has sha256 ${sha256} (${bytes} bytes), expected ${ref.sha256} (${ref.bytes} bytes)`);

/** A pass-through that hashes and counts what goes by. */
export function hashing(): { stream: Transform; result(): { sha256: string; bytes: number } } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: hash.digest('hex'), bytes }) };
}

/** A pass-through that errors at its end unless what went by matches the ref's hash and size. */
export function verifying(ref: ArtifactRef): Transform {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const sha256 = hash.digest('hex');
      done(sha256 === ref.sha256 ? null : integrityError(ref, sha256, bytes));
    },
  });
}

/** Refuses a buffer whose hash differs from the ref's. */
export function verified(ref: ArtifactRef, data: Buffer): Buffer {
  const sha256 = createHash('sha256').update(data).digest('hex');
  if (sha256 !== ref.sha256) throw integrityError(ref, sha256, data.length);
  return data;
}

/** Streams `source` into a new private file `file`, hashing it on the way. Removes the file if anything fails. */
export async function writeHashed(source: NodeJS.ReadableStream, file: string): Promise<{ sha256: string; bytes: number }> {
  const hasher = hashing();
  try {
    await pipeline(source, hasher.stream, await privateFileStream(file));
    return hasher.result();
  } catch (err) {
    await fs.rm(file, { force: true });
    throw err;
  }
}

/**
 * A write stream to a new private file, opened before anything is written: a failure then always finds
 * the file there to remove (a lazily opened stream could create it after the cleanup ran).
 */
export async function privateFileStream(file: string): Promise<NodeJS.WritableStream> {
  const handle = await fs.open(file, 'wx', PRIVATE_FILE);
  return handle.createWriteStream();
}

/** The sha256 and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; bytes: number }> {
  const hasher = hashing();
  await pipeline(createReadStream(file), hasher.stream, new Writable({ write: (_chunk, _enc, done) => done() }));
  return hasher.result();
}

/**
 * Content-addressed artifact store on the local filesystem (the embedded default).
 * Objects are written to a temporary file, hashed on the way, then renamed into place, so a crash never
 * leaves a half-written artifact under its final name, and the same bytes always land on the same key.
 * Datasets and models may be confidential: files are readable by the product's user only (0600, 0700).
 */
/**
 * putStream and putBytes for stores that stage the bytes in a local temporary file, hashed on the way,
 * and then commit that file under its content address.
 */
export abstract class StagingArtifactStore {
  protected abstract tmpFile(): Promise<string>;
  /** Puts the staged file under its address; the caller removes the file afterwards if it is still there. */
  protected abstract commit(file: string, kind: ArtifactKind, sha256: string, bytes: number, extension: string): Promise<ArtifactRef>;

  /** Copies a readable stream into the store; returns its content address. */
  async putStream(source: NodeJS.ReadableStream, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    artifactKey(kind, '0'.repeat(64), extension); // refuse a bad kind or extension before reading anything
    const tmp = await this.tmpFile();
    try {
      const { sha256, bytes } = await writeHashed(source, tmp);
      return await this.commit(tmp, kind, sha256, bytes, extension);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async putBytes(data: Uint8Array | string, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    return this.putStream(Readable.from([Buffer.from(data)]), kind, extension);
  }
}

export class LocalArtifactStore extends StagingArtifactStore implements ArtifactStore {
  readonly root: string;
  readonly location: string;

  constructor(root: string) {
    super();
    this.root = path.resolve(root);
    this.location = pathToFileURL(this.root).href;
  }

  /**
   * Hashes the file and renames it into place (the caller's path is gone afterwards). From another
   * filesystem, where rename cannot work, it is copied through a temporary file and then removed.
   */
  async putFile(file: string, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    artifactKey(kind, '0'.repeat(64), extension);
    const { sha256, bytes } = await hashFile(file);
    try {
      await fs.chmod(file, PRIVATE_FILE);
      return await this.commit(file, kind, sha256, bytes, extension);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const ref = await this.putStream(createReadStream(file), kind, extension);
      if (ref.sha256 !== sha256) throw new ArtifactIntegrityError(`${file} changed while it was being stored`);
      await fs.rm(file, { force: true });
      return ref;
    }
  }

  /** Reads an artifact whole, refusing it if its bytes do not match the recorded hash. */
  async read(ref: ArtifactRef): Promise<Buffer> {
    return verified(ref, await fs.readFile(this.localPath(ref)));
  }

  /** Streams an artifact; the hash is checked when the stream ends (the stream errors on a mismatch). */
  readStream(ref: ArtifactRef): NodeJS.ReadableStream {
    const check = verifying(ref);
    // pipeline (not pipe) so a missing or unreadable file errors the returned stream instead of the process.
    pipeline(createReadStream(this.localPath(ref)), check).catch(() => {});
    return check;
  }

  async exists(ref: ArtifactRef): Promise<boolean> {
    return (await fs.stat(this.localPath(ref)).catch(() => null))?.size === ref.bytes;
  }

  /** The stored file itself (its size checked; read() and readStream() check the hash). */
  async localFile(ref: ArtifactRef): Promise<string> {
    const file = this.localPath(ref);
    const stat = await fs.stat(file);
    if (stat.size !== ref.bytes) throw new ArtifactIntegrityError(`artifact ${ref.uri} has ${stat.size} bytes, expected ${ref.bytes}`);
    return file;
  }

  async delete(ref: ArtifactRef): Promise<void> {
    await fs.rm(this.localPath(ref), { force: true });
  }

  /** Written to a temporary file and renamed into place: a crash leaves the old value or the new one, never half. */
  async putNamed(key: string, data: string): Promise<void> {
    const file = this.namedPath(key);
    await fs.mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
    const tmp = await this.tmpFile();
    try {
      await fs.writeFile(tmp, data, { mode: PRIVATE_FILE, flag: 'wx' });
      await fs.rename(tmp, file);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async getNamed(key: string): Promise<string | null> {
    return fs.readFile(this.namedPath(key), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
  }

  /** The file behind a ref; only file:// URIs of artifacts inside the store's root (`<kind>/<sha[0:2]>/<sha>.<ext>`) are accepted. */
  localPath(ref: Pick<ArtifactRef, 'uri'>): string {
    if (!ref.uri.startsWith('file://')) throw new Error(`artifact URI ${ref.uri} is not a file:// URI of this store`);
    let file: string;
    try {
      file = path.resolve(fileURLToPath(ref.uri));
    } catch {
      throw new Error(`artifact URI ${ref.uri} is outside the artifact store`);
    }
    const key = path.relative(this.root, file).split(path.sep).join('/');
    if (!file.startsWith(this.root + path.sep) || !ARTIFACT_KEY.test(key)) throw new Error(`artifact URI ${ref.uri} is outside the artifact store`);
    return file;
  }

  protected async tmpFile(): Promise<string> {
    const tmpDir = path.join(this.root, 'tmp');
    await fs.mkdir(tmpDir, { recursive: true, mode: PRIVATE_DIR });
    return path.join(tmpDir, randomUUID());
  }

  /** Renames a finished, hashed file to its content address. */
  protected async commit(file: string, kind: ArtifactKind, sha256: string, bytes: number, extension: string): Promise<ArtifactRef> {
    const final = path.join(this.root, ...artifactKey(kind, sha256, extension).split('/'));
    await fs.mkdir(path.dirname(final), { recursive: true, mode: PRIVATE_DIR });
    await fs.rename(file, final);
    return { uri: pathToFileURL(final).href, sha256, bytes };
  }

  /** Named objects live apart from the artifacts, under `named/`. */
  private namedPath(key: string): string {
    checkNamedKey(key);
    return path.join(this.root, 'named', ...key.split('/'));
  }
}
