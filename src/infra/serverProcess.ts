import { spawn, type ChildProcess } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { outputTail } from './outputTail';

export interface ServerProcess {
  child: ChildProcess;
  /** Settles with a description once the process has exited, for whatever reason. */
  exited: Promise<string>;
  /** The last lines it printed, to show why a start failed. */
  tail: ReturnType<typeof outputTail>;
  /** The first line that looked like the cause of a crash (a Go panic's message comes before a long stack the tail keeps instead). */
  firstProblem(): string | null;
  /** Stop watching for our own exit (call when stopping it on purpose). */
  release(): void;
}

/**
 * Starts a server binary in its own process group (detached: a terminal Ctrl-C reaches only us, so the app
 * stops its workers first and the server after), copies its output to `logStream` and keeps its last lines,
 * and, as a last resort, sends it `exitSignal` if this process exits without stopping it.
 */
export function spawnServer(binary: string, args: string[], options: { env?: NodeJS.ProcessEnv; logStream: WriteStream | null; exitSignal: NodeJS.Signals }): ServerProcess {
  const tail = outputTail(30);
  let problem: string | null = null;
  const child = spawn(binary, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const onOutput = (chunk: Buffer) => {
    options.logStream?.write(chunk);
    for (const line of tail.add(chunk.toString('utf8'))) if (!problem && /^(panic|fatal error):|\berror\b/i.test(line)) problem = line.slice(0, 500);
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`could not run ${binary}: ${e.message}`));
    child.once('exit', (code, signal) => resolve(`exited with code ${code} signal ${signal}`));
  });
  const killOnExit = () => child.kill(options.exitSignal);
  process.once('exit', killOnExit);
  const release = () => process.removeListener('exit', killOnExit);
  void exited.then(release); // restarts must not pile up listeners
  return { child, exited, tail, release, firstProblem: () => problem };
}
