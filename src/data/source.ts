import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import picomatch from 'picomatch';
import { compareCodeUnits, guardedRead, MAX_SOURCE_PARTS, quoteUri, type IngestPolicy, type SourcePart, type SourcePolicy } from './parts';
import { resolveS3Source } from './s3Source';
import { SourceError } from './sourceError';

export { SourceError } from './sourceError';
export { compareCodeUnits, guardedRead, MAX_SOURCE_PARTS, quoteUri, type IngestPolicy, type SourcePart, type SourcePolicy } from './parts';

const within = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
const strictlyWithin = (p: string, dir: string) => p !== dir && within(p, dir);

/** Each directory as given and as its real path (a root may itself be a symlink). */
async function realDirs(dirs: string[]): Promise<string[]> {
  const given = dirs.map((d) => path.resolve(d));
  return [...new Set([...given, ...(await Promise.all(given.map((d) => fs.realpath(d).catch(() => d))))])];
}

/**
 * Resolves a dataset URI to a sorted list of parts that an API caller may ingest:
 * - a local path or file:// URI (see resolveLocalSource for what is refused), or a glob in its last
 *   segments (`/data/sales/2026-11-*.csv`), each match checked the same way;
 * - `s3://bucket/key` (one object), `s3://bucket/prefix/` (every object under it, except names starting
 *   with "." or "_" such as `_SUCCESS`) or `s3://bucket/prefix/2026-11-*.parquet` (a glob over keys).
 * Parts are sorted by path or key, so a pattern over dated names reads them in date order.
 * Throws a SourceError; `retryable` tells infrastructure failures (S3 down) from refusals.
 */
export async function resolveSource(uri: string, policy: SourcePolicy): Promise<SourcePart[]> {
  if (/^s3:\/\//i.test(uri)) return resolveS3Source(uri, policy);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !/^file:\/\//i.test(uri)) {
    throw new SourceError(`unsupported URI scheme in ${quoteUri(uri)}: use a local path, a file:// or an s3:// URI`);
  }
  const raw = localPathOf(uri);
  const scan = picomatch.scan(path.resolve(raw));
  // A name that merely looks like a pattern (`report[1].csv`) and exists is that file.
  if (!scan.isGlob || (await fs.stat(path.resolve(raw)).then((s) => s.isFile(), () => false))) {
    return [await localPart(await resolveLocalSource(uri, policy))];
  }
  return resolveLocalGlob(uri, scan, policy);
}

/** The local path a path or file:// URI names; refuses other schemes and `..`. */
function localPathOf(uri: string): string {
  const isFileUri = /^file:\/\//i.test(uri);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !isFileUri) {
    throw new SourceError(`unsupported URI scheme in ${quoteUri(uri)}: use a local path or a file:// URI`);
  }
  if (uri.split(/[\\/]/).includes('..')) throw new SourceError(`${quoteUri(uri)} contains "..": give the path without parent references`);
  if (uri.includes('\0')) throw new SourceError(`${quoteUri(uri)} contains a NUL character`);
  if (!isFileUri) return uri;
  // `?` and `#` start a URL's query and fragment, which fileURLToPath would silently drop.
  if (/[?#]/.test(uri)) throw new SourceError(`${quoteUri(uri)}: a file:// URI cannot contain "?" or "#" (write them as %3F and %23, or give a plain path)`);
  try {
    const raw = fileURLToPath(`file://${uri.slice('file://'.length)}`);
    if (raw.includes('\0')) throw new Error('NUL');
    return raw;
  } catch {
    throw new SourceError(`${quoteUri(uri)} is not a valid file:// URI: give file:///absolute/path (no host, no encoded "/")`);
  }
}

/**
 * Resolves a dataset URI (a path or a file:// URI) to a real file that an API caller may ingest.
 * Refused: `..` segments, other schemes, anything outside the roots (symlinks included), hidden files
 * and directories below a root (`.env`, `.git`, `.data`), and the product's own files. Outside the
 * roots the answer is always the same, so callers cannot probe what exists elsewhere.
 */
export async function resolveLocalSource(uri: string, policy: IngestPolicy): Promise<string> {
  const raw = localPathOf(uri);
  const roots = await realDirs(policy.roots);
  const protectedDirs = await realDirs(policy.protectedDirs);
  const outside = () => new SourceError(`dataset ${quoteUri(uri)} is outside the allowed data directories (${roots.join(', ')}); see INGEST_ROOTS`);

  const requested = path.resolve(raw);
  const real = await fs.realpath(requested).catch(() => null);
  if (!real) throw roots.some((r) => within(requested, r)) ? new SourceError(`dataset ${quoteUri(uri)} does not exist`) : outside();
  const grantedBy = roots.filter((root) => within(real, root));
  if (grantedBy.length === 0) throw outside(); // also a symlink inside a root pointing elsewhere
  if (!grantedBy.some((root) => readableBelow(real, root, protectedDirs))) {
    throw new SourceError(`dataset ${quoteUri(uri)} is a hidden file or one of the product's own files (DATA_DIR): it cannot be ingested`);
  }
  if (!(await fs.stat(real)).isFile()) throw new SourceError(`dataset ${quoteUri(uri)} is not a file`);
  return real;
}

/** Neither hidden below `root` nor one of the product's own files (unless `root` was named inside them). */
function readableBelow(real: string, root: string, protectedDirs: string[]): boolean {
  const hidden = path.relative(root, real).split(path.sep).some((segment) => segment.startsWith('.'));
  const serverFile = protectedDirs.some((dir) => within(real, dir) && !strictlyWithin(root, dir));
  return !hidden && !serverFile;
}

/**
 * A glob in the last segments of a local path: the directory before the first wildcard must be inside
 * the roots (and neither hidden nor the product's own), the walk below it skips hidden entries and does
 * not follow symlinked directories, and every match passes resolveLocalSource's checks: one refused match
 * refuses the whole URI, rather than silently reading less than was asked for.
 */
async function resolveLocalGlob(uri: string, scan: ReturnType<typeof picomatch.scan>, policy: SourcePolicy): Promise<SourcePart[]> {
  if (scan.negated || scan.negatedExtglob) throw new SourceError(`${quoteUri(uri)}: negated patterns are not supported; name what to read`);
  const maxParts = policy.maxParts ?? MAX_SOURCE_PARTS;
  const roots = await realDirs(policy.roots);
  const protectedDirs = await realDirs(policy.protectedDirs);
  const requestedBase = path.resolve(scan.base || path.sep);
  const base = await fs.realpath(requestedBase).catch(() => null);
  const outside = () => new SourceError(`dataset ${quoteUri(uri)} is outside the allowed data directories (${roots.join(', ')}); see INGEST_ROOTS`);
  if (!base) throw roots.some((r) => within(requestedBase, r)) ? new SourceError(`no files match ${quoteUri(uri)}: its directory does not exist`) : outside();
  const grantedBy = roots.filter((root) => within(base, root));
  if (grantedBy.length === 0) throw outside();
  if (!grantedBy.some((root) => readableBelow(base, root, protectedDirs))) {
    throw new SourceError(`dataset ${quoteUri(uri)} is in a hidden directory or among the product's own files (DATA_DIR): it cannot be ingested`);
  }

  const isMatch = picomatch(scan.glob, { dot: false });
  const depth = scan.isGlobstar ? Infinity : scan.glob.split('/').length;
  const matches: string[] = [];
  const tooMany = () => new SourceError(`${quoteUri(uri)} matches more than ${maxParts.toLocaleString('en-US')} files: narrow the pattern`);
  const walk = async (dir: string, rel: string, level: number): Promise<void> => {
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const child = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (level + 1 < depth) await walk(child, childRel, level + 1);
        continue;
      }
      if (!(entry.isFile() || entry.isSymbolicLink()) || !isMatch(childRel)) continue;
      // A symlink is a match only if it leads to a file; resolveLocalSource then says whether it may be read.
      if (entry.isSymbolicLink() && !(await fs.stat(child).then((s) => s.isFile(), () => false))) continue;
      matches.push(child);
      if (matches.length > maxParts) throw tooMany();
    }
  };
  await walk(base, '', 0);
  if (matches.length === 0) throw new SourceError(`no files match ${quoteUri(uri)}`);
  matches.sort(compareCodeUnits);
  const parts: SourcePart[] = [];
  for (const match of matches) parts.push(await localPart(await resolveLocalSource(match, policy)));
  return parts;
}

async function localPart(real: string): Promise<SourcePart> {
  const stat = await fs.stat(real);
  const uri = pathToFileURL(real).href;
  const version = `${stat.mtimeMs}-${stat.size}`;
  return {
    uri,
    size: stat.size,
    version,
    async open() {
      const now = await fs.stat(real).catch(() => null);
      if (!now || `${now.mtimeMs}-${now.size}` !== version) {
        throw new SourceError(`${quoteUri(uri)} changed or disappeared since it was listed; retrying reads it again`, { retryable: true });
      }
      return guardedRead(createReadStream(real), quoteUri(uri), stat.size);
    },
  };
}
