/**
 * `npm run bench -- <name> [--option value ...]`: runs bench/<name>.ts. Every benchmark prints
 * human-readable progress on stderr and ends with one JSON line of its figures on stdout.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = fs.readdirSync(here).filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_')).map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name> [--option value]\nbenchmarks: ${available.join(', ')}`);
  process.exit(2);
}
const options: Record<string, string> = {};
for (let i = 0; i < rest.length; i += 2) {
  if (!rest[i].startsWith('--') || rest[i + 1] === undefined) {
    console.error(`options come in pairs: --name value (got "${rest[i]}")`);
    process.exit(2);
  }
  options[rest[i].slice(2)] = rest[i + 1];
}
const bench = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { default: (o: Record<string, string>) => Promise<Record<string, unknown>> };
const figures = await bench.default(options);
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);
