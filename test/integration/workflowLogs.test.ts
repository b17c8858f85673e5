import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { installTemporalRuntime } from '../../src/workers/temporalLogging';
import type { LifecycleInputRaw } from '../../src/schemas/lifecycle';
import { startHarness, type Harness } from '../support/harness';

// The worker's "Workflow failed" line used to say `error: {}`: the SDK passes the failure as `error`
// (cloned from the workflow thread), which pino does not serialise by default.
const lines: Record<string, any>[] = [];
let h: Harness;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  // Installed before the harness starts its worker: the SDK runtime logger is per process, first one wins.
  installTemporalRuntime(createLogger('warn', { format: 'json', destination: sink }));
  h = await startHarness('wflogs');
});

afterAll(async () => {
  await h?.stop();
});

it('logs a failed workflow with the error message, type and stack', async () => {
  const handle = await h.start({ modelName: '' } as unknown as LifecycleInputRaw);
  await expect(handle.result()).rejects.toThrow();
  const deadline = Date.now() + 10_000;
  let line: Record<string, any> | undefined;
  while (!(line = lines.find((l) => l.msg === 'Workflow failed' && l.workflowId === handle.workflowId)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(line, JSON.stringify(lines)).toBeDefined();
  expect(line!.error.message).toMatch(/invalid lifecycle input/);
  expect(line!.error.type).toBeTruthy();
  expect(line!.error.stack).toMatch(/invalid lifecycle input/);
  console.log('Workflow failed log line:', JSON.stringify({ ...line, error: { ...line!.error, stack: '…' } }));
});
