import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { chromium, type Browser } from 'playwright-core';

/**
 * The browser tests drive Debian's Chromium with playwright-core (`npx playwright install` needs the
 * internet; the distribution's package comes from the package mirror like everything else).
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_INSTALL = 'sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium';

const run = promisify(execFile);

/**
 * The Chromium binary, installed on the spot when it is missing and we may (root with apt-get, as in
 * CI and fresh containers). Otherwise fails with the command to run: never a silent skip.
 */
export async function ensureChromium(log: (m: string) => void = () => {}): Promise<string> {
  if (fs.existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  const missing = `Chromium not found at ${CHROMIUM_PATH}: the browser test drives the Temporal Web UI with it.`;
  const canInstall = process.env.CHROMIUM_PATH === undefined && process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get');
  if (!canInstall) throw new Error(`${missing}\nInstall it with:\n  ${CHROMIUM_INSTALL}\n(CHROMIUM_PATH, when set, names the Chromium binary to use instead of /usr/bin/chromium).`);

  log(`${missing} Installing Debian's chromium package (about a minute)...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    await run('apt-get', ['update'], { env, timeout: 5 * 60_000, maxBuffer: 64 << 20 });
    await run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { env, timeout: 10 * 60_000, maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as Error & { stderr?: string };
    throw new Error(`${missing}\nInstalling it failed: ${err.message}\n${String(err.stderr ?? '').split('\n').slice(-15).join('\n')}\nInstall it with:\n  ${CHROMIUM_INSTALL}`);
  }
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`${missing}\napt-get installed chromium but ${CHROMIUM_PATH} is still missing.`);
  return CHROMIUM_PATH;
}

/**
 * Headless Chromium. The background-networking flags matter on a closed network: without them
 * Chromium's own outgoing connections (updates, field trials, sync) are refused and slow it down.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: await ensureChromium(),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
