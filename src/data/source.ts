import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quote } from '../domain/quote';

export class SourceError extends Error {
  override name = 'SourceError';
}

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

/** A URI is the caller's own input: quote enough of it to recognise, not a whole hostile payload. */
const URI_CHARS = 200;
const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
const strictlyWithin = (p: string, dir: string) => p !== dir && within(p, dir);

/** Each directory as given and as its real path (a root may itself be a symlink). */
async function realDirs(dirs: string[]): Promise<string[]> {
  const given = dirs.map((d) => path.resolve(d));
  return [...new Set([...given, ...(await Promise.all(given.map((d) => fs.realpath(d).catch(() => d))))])];
}

/**
 * Resolves a dataset URI (a path or a file:// URI) to a real file that an API caller may ingest.
 * Refused: `..` segments, other schemes, anything outside the roots (symlinks included), hidden files
 * and directories below a root (`.env`, `.git`, `.data`), and the product's own files. Outside the
 * roots the answer is always the same, so callers cannot probe what exists elsewhere.
 */
export async function resolveLocalSource(uri: string, policy: IngestPolicy): Promise<string> {
  const isFileUri = /^file:\/\//i.test(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !isFileUri) {
    throw new SourceError(`unsupported URI scheme in ${quote(uri, URI_CHARS)}: use a local path or a file:// URI`);
  }
  if (uri.split(/[\\/]/).includes('..')) throw new SourceError(`${quote(uri, URI_CHARS)} contains "..": give the path without parent references`);
  const raw = isFileUri ? fileURLToPath(`file://${uri.slice('file://'.length)}`) : uri;
  const roots = await realDirs(policy.roots);
  const protectedDirs = await realDirs(policy.protectedDirs);
  const outside = () => new SourceError(`dataset ${quote(uri, URI_CHARS)} is outside the allowed data directories (${roots.join(', ')}); see INGEST_ROOTS`);

  const requested = path.resolve(raw);
  const real = await fs.realpath(requested).catch(() => null);
  if (!real) throw roots.some((r) => within(requested, r)) ? new SourceError(`dataset ${quote(uri, URI_CHARS)} does not exist`) : outside();
  const grantedBy = roots.filter((root) => within(real, root));
  if (grantedBy.length === 0) throw outside(); // also a symlink inside a root pointing elsewhere
  const allowed = grantedBy.some((root) => {
    const hidden = path.relative(root, real).split(path.sep).some((segment) => segment.startsWith('.'));
    const serverFile = protectedDirs.some((dir) => within(real, dir) && !strictlyWithin(root, dir));
    return !hidden && !serverFile;
  });
  if (!allowed) {
    throw new SourceError(`dataset ${quote(uri, URI_CHARS)} is a hidden file or one of the product's own files (DATA_DIR): it cannot be ingested`);
  }
  if (!(await fs.stat(real)).isFile()) throw new SourceError(`dataset ${quote(uri, URI_CHARS)} is not a file`);
  return real;
}
