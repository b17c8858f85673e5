import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export class SourceError extends Error {
  override name = 'SourceError';
}

/**
 * Resolves a dataset URI (a path or a file:// URI) to a real file inside one of the allowed roots.
 * `..` segments, other schemes and symlinks escaping the roots are refused, so an API caller cannot
 * make the worker read arbitrary files.
 */
export async function resolveLocalSource(uri: string, allowedRoots: string[]): Promise<string> {
  const isFileUri = /^file:\/\//i.test(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !isFileUri) {
    throw new SourceError(`unsupported URI scheme in "${uri}": use a local path or a file:// URI`);
  }
  if (uri.split(/[\\/]/).includes('..')) throw new SourceError(`"${uri}" contains "..": give the path without parent references`);
  const raw = isFileUri ? fileURLToPath(`file://${uri.slice('file://'.length)}`) : uri;
  // Each root as given and as its real path (a root may itself be a symlink).
  const given = allowedRoots.map((r) => path.resolve(r));
  const roots = [...new Set([...given, ...(await Promise.all(given.map((r) => fs.realpath(r).catch(() => r))))])];
  const inRoots = (p: string) => roots.some((root) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep));
  const outside = () => new SourceError(`dataset "${uri}" is outside the allowed data directories (${roots.join(', ')}); see INGEST_ROOTS`);
  const requested = path.resolve(raw);
  const real = await fs.realpath(requested).catch(() => null);
  // Outside the roots the answer is always the same, so callers cannot probe what exists elsewhere.
  if (!real) throw inRoots(requested) ? new SourceError(`dataset "${uri}" does not exist`) : outside();
  if (!inRoots(real)) throw outside(); // also a symlink inside a root pointing elsewhere
  if (!(await fs.stat(real)).isFile()) throw new SourceError(`dataset "${uri}" is not a file`);
  return real;
}
