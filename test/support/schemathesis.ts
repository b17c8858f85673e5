import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { lifecycleCacheDir } from '../../src/infra/temporalCli';

/**
 * Schemathesis (PyPI) on demand: a pinned version in its own virtualenv under the project cache
 * ($LIFECYCLE_CACHE_DIR or ~/.cache/lifecycle), so a plain `npm test` works on a fresh machine with
 * python3. A marker written last tells a finished install from an interrupted one.
 */
export const SCHEMATHESIS_VERSION = '4.32.5';

export function schemathesisDir(): string {
  return path.join(lifecycleCacheDir(), `schemathesis-${SCHEMATHESIS_VERSION}`);
}

export async function ensureSchemathesis(log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<string> {
  const dir = schemathesisDir();
  const bin = path.join(dir, 'bin', 'schemathesis');
  const marker = path.join(dir, '.installed');
  if (await exists(marker)) return bin;
  log(`schemathesis ${SCHEMATHESIS_VERSION}: installing into ${dir} (once)`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(dir), { recursive: true });
  await run('python3', ['-m', 'venv', dir]);
  await run(path.join(dir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  await fs.writeFile(marker, `${new Date().toISOString()}\n`);
  return bin;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(() => true, () => false);
}

/** Runs a command; resolves with its output and exit code, rejects only when it cannot start or `check` fails. */
export function run(command: string, args: string[], options: { check?: boolean; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGTERM'), options.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if ((options.check ?? true) && code !== 0) reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output.slice(-4000)}`));
      else resolve({ code: code ?? -1, output });
    });
  });
}
