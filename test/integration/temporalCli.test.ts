import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES } from '../../src/demo/usedCars';
import { startHarness, waitForStatus, resultOf, type Harness } from '../support/harness';

const run = promisify(execFile);
let h: Harness;
beforeAll(async () => {
  h = await startHarness('cli');
});
afterAll(async () => h?.stop());

/** Runs the real Temporal CLI binary against the test server, as a user would from a shell. */
async function temporal(...args: string[]) {
  const cli = inject('temporalCliPath');
  if (!cli) throw new Error('the Temporal CLI binary is required for this test (npm run provision)');
  const { stdout } = await run(cli, [...args, '--address', inject('temporalAddress'), '--namespace', 'default']);
  return stdout;
}

describe('the plain Temporal CLI', () => {
  it('starts a lifecycle, queries it and approves it with a signal', async () => {
    const model = `cli-cars-${randomUUID().slice(0, 6)}`;
    const workflowId = `cli-${model}`;
    const input = {
      modelName: model,
      datasetUri: `file://${await h.writeDataset(`${model}.csv`, usedCarsCsv(800, 41))}`,
      target: 'price',
      features: USED_CAR_FEATURES,
      approvers: ['alice'],
      requestedBy: 'eve-engineer',
      requesterProof: h.requesterProof(workflowId, 'eve-engineer'),
    };
    await temporal('workflow', 'start', '--type', 'modelLifecycle', '--task-queue', h.taskQueue, '--workflow-id', workflowId, '--input', JSON.stringify(input));
    const handle = h.client.workflow.getHandle(workflowId);
    await waitForStatus(handle, (s) => s.stage === 'awaiting-approval');

    const queried = JSON.parse(await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', 'status', '--output', 'json'));
    expect(JSON.stringify(queried)).toContain('"stage":"awaiting-approval"');

    await temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', 'approve', '--input', JSON.stringify(await h.decision(handle, 'alice', { comment: 'from the CLI' })));
    expect(await resultOf(handle)).toMatchObject({ outcome: 'deployed', decidedBy: ['alice'] });
  });
});
