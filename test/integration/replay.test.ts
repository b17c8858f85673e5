import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, inject, it } from 'vitest';

/**
 * Runs wait days for an approval, so every change to the workflow must replay the histories of the
 * code they started under. test/histories/ holds histories recorded from earlier versions of the
 * workflow (`npm run record-histories`); each must replay against the current code without a
 * nondeterminism error. Never re-record a history to make this pass: patch the change instead.
 */
const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../histories');
const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();

describe('recorded histories replay against the current workflow code', () => {
  it('has recorded histories of the main endings', () => {
    expect(files).toEqual(expect.arrayContaining(['approved.json', 'rejected.json', 'expired.json', 'failed-validation.json', 'two-approvals.json', 'superseded.json', 'canary-rolled-back.json', 'shadow.json']));
  });

  it.each(files)('%s', async (file) => {
    const history = historyFromJSON(JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, `replay-${file}`);
  });
});
