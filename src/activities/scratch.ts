import fs from 'node:fs/promises';
import path from 'node:path';
import { pidAlive } from '../infra/net';

/**
 * Local scratch space of one worker process: `DATA_DIR/scratch/<pid>`. Work files (downloads, typed forms
 * being written, DuckDB's spill files) go there and are removed when the work ends; a process killed -9
 * leaves its directory behind, and the next worker to start on the host removes it.
 */
export function processScratch(scratchRoot: string, pid = process.pid): string {
  return path.join(scratchRoot, String(pid));
}

/** Removes the scratch directories of processes that are no longer alive; returns what it removed. */
export async function removeDeadScratch(scratchRoot: string): Promise<string[]> {
  const entries = await fs.readdir(scratchRoot, { withFileTypes: true }).catch(() => []);
  const dead = entries.filter((e) => e.isDirectory() && /^\d+$/.test(e.name) && !pidAlive(Number(e.name))).map((e) => path.join(scratchRoot, e.name));
  await Promise.all(dead.map((dir) => fs.rm(dir, { recursive: true, force: true })));
  return dead;
}
