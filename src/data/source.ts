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
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new SourceError(`unsupported URI scheme in "${uri}": use a local path or a file:// URI`);
  }
  const raw = uri.startsWith('file://') ? fileURLToPath(uri) : uri;
  if (raw.split(/[\\/]/).includes('..')) throw new SourceError(`"${uri}" contains "..": give the path without parent references`);
  let real: string;
  try {
    real = await fs.realpath(path.resolve(raw));
  } catch {
    throw new SourceError(`dataset "${uri}" does not exist`);
  }
  const stat = await fs.stat(real);
  if (!stat.isFile()) throw new SourceError(`dataset "${uri}" is not a file`);
  const roots = await Promise.all(allowedRoots.map((r) => fs.realpath(path.resolve(r)).catch(() => path.resolve(r))));
  if (!roots.some((root) => real === root || real.startsWith(root + path.sep))) {
    throw new SourceError(`dataset "${uri}" is outside the allowed data directories (${roots.join(', ')}); see INGEST_ROOTS`);
  }
  return real;
}
