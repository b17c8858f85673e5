/**
 * Ready-to-paste Temporal CLI commands that the API hands out, for people who signal or start runs with
 * the plain `temporal` CLI. They name the server, namespace and run explicitly, so they work from any
 * shell, not only one whose CLI defaults happen to match.
 */
export interface TemporalCliTarget {
  /** The `temporal` executable (a bare name is looked up on PATH). */
  path: string;
  address: string;
  namespace: string;
}

/** Quotes one argument for a POSIX shell; plain words stay readable. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_\/.:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

const command = (cli: TemporalCliTarget, args: string[]) =>
  [cli.path, ...args, '--address', cli.address, '--namespace', cli.namespace].map(shellQuote).join(' ');

export function signalCommand(cli: TemporalCliTarget, run: { workflowId: string; runId: string }, signalName: string, payload: string): string {
  return command(cli, ['workflow', 'signal', '--workflow-id', run.workflowId, '--run-id', run.runId, '--name', signalName, '--input', payload]);
}

export function startCommand(cli: TemporalCliTarget, start: { workflowId: string; taskQueue: string; workflowType: string; input: string }): string {
  return command(cli, ['workflow', 'start', '--type', start.workflowType, '--task-queue', start.taskQueue, '--workflow-id', start.workflowId, '--input', start.input]);
}
