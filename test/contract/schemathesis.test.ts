import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, tokenOf, type Harness } from '../support/harness';
import { ensureSchemathesis, run } from '../support/schemathesis';

/**
 * The served OpenAPI document is a contract: schemathesis generates requests from it (valid and
 * invalid ones) for every operation, once per role and once without a token, and runs all its checks
 * on the answers. The test fails on any server error or any answer the document does not allow.
 */
const CALLERS = ['vic-viewer', 'eve-engineer', 'alice', 'ada-admin', null] as const;
/** Examples per operation and phase; with the coverage phase this gives well over 1,000 requests. */
const MAX_EXAMPLES = 25;

/**
 * The one rule the document cannot state: JSON Schema has no way to say "the target column is not one
 * of the features", so a generated body can satisfy the schema and still get the 400 that names the
 * rule. For that operation only, a 400 is an acceptable answer to schema-valid data.
 */
const CONFIG = `
[[operations]]
include-path = "/lifecycles"
include-method = "POST"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
`;

let h: Harness;
let schemathesis: string;
let reports: string;
beforeAll(async () => {
  [h, schemathesis] = await Promise.all([startHarness('contract', { api: true, ownDatabase: true }), ensureSchemathesis((m) => console.log(m))]);
  reports = await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-schemathesis-'));
});
afterAll(async () => {
  await h?.stop();
  if (reports) await fs.rm(reports, { recursive: true, force: true });
});

interface Counts {
  caller: string;
  requests: number;
  checksPassed: number;
  checksFailed: number;
  exitCode: number;
  output: string;
}

async function fuzz(caller: string | null): Promise<Counts> {
  const name = caller ?? 'anonymous';
  const ndjson = path.join(reports, `${name}.ndjson`);
  const config = path.join(reports, 'schemathesis.toml');
  await fs.writeFile(config, CONFIG);
  const args = [
    '--config-file', config,
    'run', `${h.api!.url}/openapi.json`,
    '--checks', 'all',
    '--phases', 'examples,coverage,fuzzing',
    '--max-examples', String(MAX_EXAMPLES),
    '--seed', '20240601',
    // One worker: hypothesis describes filter lambdas with ast.parse, which CPython 3.11.7 can break
    // under threads ("AST constructor recursion depth mismatch"); one worker is fast enough here.
    '--workers', '1',
    '--no-color',
    '--generation-database', 'none', // no example database left behind in the checkout
    '--report', 'ndjson', '--report-ndjson-path', ndjson,
    ...(caller ? ['--header', `Authorization: Bearer ${tokenOf(caller)}`] : []),
  ];
  const { code, output } = await run(schemathesis, args, { check: false, env: { ...process.env, SCHEMATHESIS_HOOKS: '' }, cwd: reports, timeoutMs: 150_000 });
  return { caller: name, ...(await countNdjson(ndjson)), exitCode: code, output };
}

/** Counts requests and check results from schemathesis' ndjson event stream. */
async function countNdjson(file: string): Promise<{ requests: number; checksPassed: number; checksFailed: number }> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  let requests = 0;
  let checksPassed = 0;
  let checksFailed = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const event = JSON.parse(line);
    const finished = event.ScenarioFinished ?? event.scenario_finished;
    if (!finished) continue;
    const recorder = finished.recorder;
    requests += Object.values(recorder?.interactions ?? {}).length;
    for (const checks of Object.values(recorder?.checks ?? {}) as { status: string }[][]) {
      for (const check of checks) {
        if (check.status === 'success') checksPassed++;
        else if (check.status === 'failure') checksFailed++;
      }
    }
  }
  return { requests, checksPassed, checksFailed };
}

/** The failures and errors sections of schemathesis' report, with long bodies cut so the reason stays readable. */
function failuresOf(output: string): string {
  const start = Math.max(0, output.search(/=+ (FAILURES|ERRORS) =+/));
  return output.slice(start).replace(/[^\n]{600,}/g, (line) => `${line.slice(0, 600)}… (${line.length} characters)`);
}

describe('the OpenAPI document against the running API (schemathesis)', () => {
  it('has zero server errors and zero answers that break the document, for every role and anonymous', { timeout: 600_000 }, async () => {
    const results: Counts[] = [];
    for (const caller of CALLERS) results.push(await fuzz(caller));
    for (const r of results) {
      console.log(`schemathesis as ${r.caller}: ${r.requests} requests, ${r.checksPassed} checks passed, ${r.checksFailed} failed (exit ${r.exitCode})`);
    }
    const total = results.reduce((sum, r) => sum + r.requests, 0);
    console.log(`schemathesis total: ${total} requests, ${results.reduce((s, r) => s + r.checksPassed, 0)} checks passed, ${results.reduce((s, r) => s + r.checksFailed, 0)} failed`);
    for (const r of results) {
      if (r.exitCode !== 0 || r.checksFailed > 0) console.log(`--- schemathesis as ${r.caller} ---\n${failuresOf(r.output)}`);
    }
    expect(results.map((r) => ({ caller: r.caller, exitCode: r.exitCode, checksFailed: r.checksFailed }))).toEqual(
      results.map((r) => ({ caller: r.caller, exitCode: 0, checksFailed: 0 })),
    );
    expect(total).toBeGreaterThanOrEqual(1000);
  });
});
