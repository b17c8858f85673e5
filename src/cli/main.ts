/**
 * The project CLI, a client of the HTTP API: `npm run lifecycle -- <command>` (see --help).
 * Identity: --token or LIFECYCLE_TOKEN; on a machine running `npm start`, `--as <local identity>` reads
 * the embedded default tokens from DATA_DIR/secrets.json.
 */
import fs from 'node:fs/promises';
import { Command, Option } from 'commander';
import { loadConfig } from '../config';
import { applySchedulesFile } from '../schedules/applyFile';
import { formatZodError, LifecycleInput } from '../schemas/lifecycle';
import { DriftMonitorInput } from '../schemas/monitoring';
import { ApiClient, defaultApiUrl, localToken } from './apiClient';

const program = new Command('lifecycle')
  .description('Start, follow and approve model lifecycles; query the registry; predict.')
  .addOption(new Option('--api <url>', 'API base URL').default(defaultApiUrl()))
  .addOption(new Option('--token <token>', 'API bearer token').env('LIFECYCLE_TOKEN'))
  .addOption(new Option('--as <identity>', 'use a local identity from DATA_DIR/secrets.json').default('local-engineer'));

function client(): ApiClient {
  const opts = program.opts<{ api: string; token?: string; as: string }>();
  return new ApiClient(opts.api, opts.token ?? localToken(opts.as));
}
const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

program
  .command('start')
  .description('start a lifecycle from a JSON input file (the same input as `temporal workflow start --input`)')
  .argument('<input.json>', 'lifecycle input: modelName, datasetUri, target, features, approvers, ...')
  .action(async (file: string) => {
    const raw = JSON.parse(await fs.readFile(file, 'utf8'));
    const parsed = LifecycleInput.safeParse(raw);
    if (!parsed.success) throw new Error(`${file}: ${formatZodError(parsed.error)}`);
    // Send what the file says, not the parsed defaults: requestedBy and its proof are set by the API.
    print(await client().call('POST', '/lifecycles', raw));
  });

program.command('status').argument('<run>', 'workflow id').description('stage, metrics and decisions of a run')
  .option('--summary', 'only what the Temporal server answers by itself (stage, outcome, evaluation): never waits for a worker')
  .action(async (run: string, opts: { summary?: boolean }) =>
    print(await client().call('GET', `/lifecycles/${encodeURIComponent(run)}${opts.summary ? '?view=summary' : ''}`)));

for (const decision of ['approve', 'reject'] as const) {
  program.command(decision).argument('<run>', 'workflow id').description(`${decision} the candidate of a run, as the caller`)
    .option('-m, --comment <text>', 'why', '')
    .action(async (run: string, opts: { comment: string }) =>
      print(await client().call('POST', `/lifecycles/${encodeURIComponent(run)}/${decision}`, { comment: opts.comment })));
}

program.command('approval-token').argument('<run>', 'workflow id')
  .description('a single-use token proving your identity, for a signal sent from the Temporal UI or CLI (prints the ready command)')
  .option('--reject', 'a token for the reject signal (default: approve)')
  .action(async (run: string, opts: { reject?: boolean }) =>
    print(await client().call('POST', `/lifecycles/${encodeURIComponent(run)}/approval-token`, { decision: opts.reject ? 'reject' : 'approve' })));

program.command('requester-proof').argument('<workflowId>', 'the workflow id you will start the run with')
  .description('proof that you request the run, for `temporal workflow start` (without it the run needs two approvers)')
  .action(async (workflowId: string) => print(await client().call('POST', '/lifecycles/requester-proof', { workflowId })));

program.command('decisions').argument('<run>', 'workflow id').description('audit trail of decisions on a run')
  .action(async (run: string) => print(await client().call('GET', `/lifecycles/${encodeURIComponent(run)}/decisions`)));

program.command('models').description('registered models and their aliases')
  .action(async () => print(await client().call('GET', '/models')));

program.command('versions').argument('<model>').description('versions of a model with lineage, metrics and alias history')
  .action(async (model: string) => print(await client().call('GET', `/models/${encodeURIComponent(model)}/versions`)));

program.command('drift').argument('<model>')
  .description('drift history of a model (newest first, with report links); with --run, run the monitor now')
  .option('--run', 'start a drift monitor run now instead of listing the history')
  .option('--window <duration>', 'with --run: the prediction log over this window, e.g. 24h (default 24h)')
  .option('--dataset <uri>', 'with --run: judge this dataset instead of the prediction log')
  .option('--limit <n>', 'runs listed (default 50)')
  .action(async (model: string, opts: { run?: boolean; window?: string; dataset?: string; limit?: string }) => {
    const route = `/models/${encodeURIComponent(model)}/drift`;
    if (!opts.run) return print(await client().call('GET', `${route}${opts.limit ? `?limit=${encodeURIComponent(opts.limit)}` : ''}`));
    if (opts.window && opts.dataset) throw new Error('give --window or --dataset, not both');
    const raw = { modelName: model, ...(opts.dataset ? { current: { datasetUri: opts.dataset } } : opts.window ? { current: { window: opts.window } } : {}) };
    const parsed = DriftMonitorInput.safeParse(raw);
    if (!parsed.success) throw new Error(formatZodError(parsed.error));
    const { modelName: _, ...body } = raw;
    print(await client().call('POST', route, body));
  });

program.command('predict').argument('<model>').argument('<rows>', 'JSON array of rows keyed by feature name, or @file.json')
  .description('predict with the production version of a model (or --version / --alias)')
  .option('--version <n>', 'pin a version number')
  .option('--alias <name>', 'the version behind an alias, e.g. staging')
  .action(async (model: string, rows: string, opts: { version?: string; alias?: string }) => {
    const text = rows.startsWith('@') ? await fs.readFile(rows.slice(1), 'utf8') : rows;
    const query = opts.version ? `?version=${encodeURIComponent(opts.version)}` : opts.alias ? `?alias=${encodeURIComponent(opts.alias)}` : '';
    print(await client().call('POST', `/models/${encodeURIComponent(model)}/predict${query}`, { rows: JSON.parse(text) }));
  });

program.command('rollback').argument('<model>')
  .description('move production back to the version before the latest deploy (or --to N, a version that served in production before); audited')
  .requiredOption('-r, --reason <text>', 'why (kept in the alias history)')
  .option('--to <version>', 'the version to go back to', (v) => Number(v))
  .option('--canary', 'take the running canary out instead')
  .option('--key <idempotencyKey>', 'the same key sent again moves the alias once')
  .action(async (model: string, opts: { reason: string; to?: number; canary?: boolean; key?: string }) =>
    print(await client().call('POST', `/models/${encodeURIComponent(model)}/rollback`, {
      reason: opts.reason,
      ...(opts.canary ? { alias: 'canary' } : {}),
      ...(opts.to === undefined ? {} : { toVersion: opts.to }),
      ...(opts.key ? { idempotencyKey: opts.key } : {}),
    })));

const alias = program.command('alias').description('team aliases (staging, …): predict with them as ?alias=<name>');
alias.command('set').argument('<model>').argument('<alias>').argument('<version>', 'version number', (v) => Number(v))
  .requiredOption('-r, --reason <text>', 'why (kept in the alias history)')
  .action(async (model: string, name: string, version: number, opts: { reason: string }) =>
    print(await client().call('PUT', `/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(name)}`, { version, reason: opts.reason })));
alias.command('rm').argument('<model>').argument('<alias>')
  .requiredOption('-r, --reason <text>', 'why (kept in the alias history)')
  .action(async (model: string, name: string, opts: { reason: string }) =>
    print(await client().call('DELETE', `/models/${encodeURIComponent(model)}/aliases/${encodeURIComponent(name)}?reason=${encodeURIComponent(opts.reason)}`)));
const schedules = program.command('schedules').description('Temporal Schedules of the schedules file: nightly retraining and drift monitoring per model');

schedules.command('apply')
  .description('make the Temporal Schedules match a schedules file (idempotent); prints what was created, updated, unchanged, deleted')
  .option('--file <file>', 'the schedules file (default: SCHEDULES_FILE, else lifecycle.schedules.yaml)')
  .option('--dry-run', 'only print what would change')
  .option('--server', "have the API server apply its own SCHEDULES_FILE (POST /schedules/apply, role engineer or admin) instead of this machine's file")
  .option('--temporal <address>', 'Temporal frontend (default: TEMPORAL_ADDRESS, else 127.0.0.1:TEMPORAL_PORT)')
  .option('--namespace <namespace>', 'default: TEMPORAL_NAMESPACE, else default')
  .option('--task-queue <queue>', "the product's task queue the scheduled workflows start on (default: TEMPORAL_TASK_QUEUE, else lifecycle)")
  .action(async (opts: { file?: string; dryRun?: boolean; server?: boolean; temporal?: string; namespace?: string; taskQueue?: string }) => {
    if (opts.server) {
      if (opts.file) throw new Error('--server applies the file the server was started with; drop --file, or drop --server to apply this file directly');
      return print(await client().call('POST', '/schedules/apply', { dryRun: Boolean(opts.dryRun) }));
    }
    // An operator tool, like `temporal schedule create`: it talks to Temporal directly with the file at hand.
    const config = loadConfig();
    const target = {
      temporalAddress: opts.temporal ?? config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`,
      namespace: opts.namespace ?? config.TEMPORAL_NAMESPACE,
      taskQueue: opts.taskQueue ?? config.TEMPORAL_TASK_QUEUE,
    };
    const file = opts.file ?? config.SCHEDULES_FILE;
    print({ file, ...(await applySchedulesFile(target, file, { dryRun: opts.dryRun })) });
  });

schedules.command('list').description('the schedules with their spec, pause state, next runs and recent runs')
  .action(async () => print(await client().call('GET', '/schedules')));

for (const action of ['pause', 'resume', 'trigger'] as const) {
  schedules.command(action).argument('<id>', 'schedule id, e.g. lifecycle:used-car-price:retraining')
    .description(action === 'trigger' ? "start the schedule's workflow now (refused while paused)" : `${action} a schedule; your identity and the note show in the Temporal UI`)
    .option('-m, --note <text>', 'why', '')
    .action(async (id: string, opts: { note: string }) =>
      print(await client().call('POST', `/schedules/${encodeURIComponent(id)}/${action}`, { note: opts.note })));
}

program.parseAsync().catch((err: Error) => {
  console.error(`lifecycle: ${err.message}`);
  process.exit(1);
});
