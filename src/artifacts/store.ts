import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** A stored artifact, passed between activities instead of the data itself. */
export interface ArtifactRef {
  uri: string;
  sha256: string;
  bytes: number;
}

export type ArtifactKind = 'datasets' | 'models' | 'reports';

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

export class ArtifactIntegrityError extends Error {
  override name = 'ArtifactIntegrityError';
}

/**
 * Content-addressed artifact store on the local filesystem (the embedded default).
 * Objects are written to a temporary file, hashed on the way, then renamed into place, so a crash never
 * leaves a half-written artifact under its final name, and the same bytes always land on the same key.
 * Datasets and models may be confidential: files are readable by the product's user only (0600, 0700).
 */
export class LocalArtifactStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Copies a readable stream into the store; returns its content address. */
  async putStream(source: NodeJS.ReadableStream, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    const tmpDir = path.join(this.root, 'tmp');
    await fs.mkdir(tmpDir, { recursive: true, mode: PRIVATE_DIR });
    const tmp = path.join(tmpDir, randomUUID());
    const hash = createHash('sha256');
    let bytes = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, hasher, createWriteStream(tmp, { flags: 'wx', mode: PRIVATE_FILE }));
      const sha256 = hash.digest('hex');
      const final = this.pathFor(kind, sha256, extension);
      await fs.mkdir(path.dirname(final), { recursive: true, mode: PRIVATE_DIR });
      await fs.rename(tmp, final);
      return { uri: pathToFileURL(final).href, sha256, bytes };
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async putBytes(data: Uint8Array | string, kind: ArtifactKind, extension: string): Promise<ArtifactRef> {
    return this.putStream(Readable.from([Buffer.from(data)]), kind, extension);
  }

  /** Reads an artifact whole, refusing it if its bytes do not match the recorded hash. */
  async read(ref: ArtifactRef): Promise<Buffer> {
    const data = await fs.readFile(this.localPath(ref));
    const sha256 = createHash('sha256').update(data).digest('hex');
    if (sha256 !== ref.sha256) {
      throw new ArtifactIntegrityError(`artifact ${ref.uri} has sha256 ${sha256}, expected ${ref.sha256}`);
    }
    return data;
  }

  /** Streams an artifact; the hash is checked when the stream ends (the stream errors on a mismatch). */
  readStream(ref: ArtifactRef): NodeJS.ReadableStream {
    const hash = createHash('sha256');
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
      flush(done) {
        const sha256 = hash.digest('hex');
        done(sha256 === ref.sha256 ? null : new ArtifactIntegrityError(`artifact ${ref.uri} has sha256 ${sha256}, expected ${ref.sha256}`));
      },
    });
    // pipeline (not pipe) so a missing or unreadable file errors the returned stream instead of the process.
    pipeline(createReadStream(this.localPath(ref)), check).catch(() => {});
    return check;
  }

  /** The file behind a ref; only file:// URIs inside the store's root are accepted. */
  localPath(ref: Pick<ArtifactRef, 'uri'>): string {
    if (!ref.uri.startsWith('file://')) throw new Error(`artifact URI ${ref.uri} is not a file:// URI of this store`);
    const file = path.resolve(fileURLToPath(ref.uri));
    if (!file.startsWith(this.root + path.sep)) throw new Error(`artifact URI ${ref.uri} is outside the artifact store`);
    return file;
  }

  private pathFor(kind: ArtifactKind, sha256: string, extension: string): string {
    if (!/^[a-z0-9]{1,10}$/.test(extension)) throw new Error(`bad artifact extension "${extension}"`);
    return path.join(this.root, kind, sha256.slice(0, 2), `${sha256}.${extension}`);
  }
}
