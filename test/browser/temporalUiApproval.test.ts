import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { usedCarsCsv, USED_CAR_FEATURES, USED_CAR_TARGET } from '../../src/demo/usedCars';
import { callApi, startHarness, until, type Harness } from '../support/harness';
import { ensureChromium, launchChromium } from './chromium';

/** A real HTTP call to this file's API. */
const call = (method: string, route: string, as: string | null, body?: unknown) => callApi(h.api!.url, method, route, as, body);

/**
 * The approvers' main path, as README "Approving a model" tells it: find the waiting run in the
 * Temporal Web UI with a visibility query, open it, read the evaluation in its memo, and send the
 * `approve` signal with the payload the API issued. Driven in a real Chromium against the dev
 * server's real UI; the run, worker, API and audit trail are the real ones.
 */

let h: Harness;
let browser: Browser;
let page: Page;
let shots: string;
const uiUrl = inject('temporalUiUrl');

beforeAll(async () => {
  // First, so a machine without Chromium fails (or installs it, as root) before anything starts.
  await ensureChromium((m) => console.log(m));
  h = await startHarness('ui', { api: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
  // Screenshots of each step: kept in $UI_SCREENSHOTS when set, else in a temp dir kept only on failure.
  shots = process.env.UI_SCREENSHOTS ? path.resolve(process.env.UI_SCREENSHOTS) : await fs.mkdtemp(path.join(os.tmpdir(), 'lifecycle-ui-'));
  await fs.mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

const runOf = (id: string) => call('GET', `/lifecycles/${id}`, 'vic-viewer').then((r) => r.body);
const shot = (name: string) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

/** Workflows list → raw query box → the run's row (visibility may trail the stage change by a moment). */
async function findWaitingRun(query: string, workflowId: string): Promise<Locator> {
  await page.goto(`${uiUrl}/namespaces/default/workflows`);
  await page.getByTestId('toggle-manual-query').click(); // the "</>" button: "Show raw query"
  const box = page.getByLabel('Enter a query');
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: workflowId, exact: true }) });
  return until('the run in the filtered workflow list', async () => {
    await box.fill(query);
    await box.press('Enter');
    return (await row.isVisible({ timeout: 2_000 }).catch(() => false)) && row;
  });
}

/**
 * "More Actions" → "Send a Signal" → signal name + JSON payload (a CodeMirror editor) → Submit. With a
 * worker polling, the UI asks the run for its signal definitions and offers them in a "Select a signal"
 * list, each with its description; without one, the name is a plain text field.
 */
async function sendSignal(workflowId: string, name: string, payload: string, label: string) {
  await page.getByRole('button', { name: 'More Actions' }).click();
  await page.getByRole('menuitem', { name: 'Send a Signal' }).click();
  const dialog = page.getByRole('dialog', { name: 'Send a Signal' });
  const select = dialog.getByRole('button', { name: /Select a signal/ });
  const field = dialog.getByTestId('signal-name');
  await select.or(field).waitFor();
  if (await select.isVisible()) {
    await select.click();
    const option = dialog.getByRole('option', { name: new RegExp(`^${name}\\b`) });
    await expect.poll(() => option.innerText()).toMatch(/token/); // the handler's description says where the token comes from
    await option.click();
  } else {
    await field.fill(name);
  }
  const editor = dialog.locator('.cm-content[contenteditable="true"]');
  await editor.click();
  await page.keyboard.insertText(payload); // one insertion, like a paste: no auto-closed brackets
  // On blur the UI pretty-prints the JSON, which resizes the dialog: blur first, or the click on
  // Submit lands where the button was.
  await editor.blur();
  await expect.poll(() => editor.innerText().then((t) => JSON.parse(t)).catch(() => null)).toEqual(JSON.parse(payload));
  await shot(`${label}-dialog`);
  const sent = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes(`/workflows/${workflowId}/signal/${name}`));
  await dialog.getByRole('button', { name: 'Submit' }).click();
  expect((await sent).status()).toBe(200);
  await dialog.waitFor({ state: 'hidden' });
}

describe('approving in the Temporal Web UI', () => {
  it('finds the waiting run by its search attributes, refuses a forged token, deploys with the issued one', async () => {
    const model = `ui-cars-${randomUUID().slice(0, 6)}`;
    const started = await call('POST', '/lifecycles', 'eve-engineer', {
      modelName: model, datasetUri: await h.writeDataset(`${model}.csv`, usedCarsCsv(1000, 41)),
      target: USED_CAR_TARGET, features: USED_CAR_FEATURES, approvers: ['alice'],
    });
    expect(started.status).toBe(201);
    const id: string = started.body.workflowId;
    const waiting = await until('awaiting-approval', async () => {
      const run = await runOf(id);
      expect(run.failure).toBeNull();
      return run.status?.stage === 'awaiting-approval' && run;
    }, 60_000);
    const evaluation = waiting.status.evaluation;
    expect(evaluation.gate.blessed).toBe(true);

    try {
      // 1. The approver's list: runs waiting for a decision on this model.
      const row = await findWaitingRun(`LifecycleStage = "awaiting-approval" AND ModelName = "${model}"`, id);
      await expect.poll(() => page.getByRole('row').filter({ has: page.getByRole('link') }).count()).toBe(1);
      await expect.poll(() => row.innerText()).toMatch(/Running/);
      await shot('1-list');

      // 2. The run: its memo carries the evaluation the approver decides on.
      await row.getByRole('link', { name: id, exact: true }).click();
      await page.waitForURL(new RegExp(`/workflows/${id}/${waiting.runId}/`));
      await page.getByRole('tab', { name: 'Memo' }).click();
      // The memo is a read-only JSON editor under the "Memo" heading.
      const memo = page.getByRole('heading', { name: 'Memo', exact: true }).locator('xpath=..').getByRole('textbox');
      await expect.poll(() => memo.innerText()).toMatch(/"evaluation"/);
      const memoText = await memo.innerText();
      expect(memoText).toMatch(/"blessed":\s*true/);
      expect(memoText).toContain(`"metric": "${evaluation.primaryMetric}"`);
      expect(memoText).toContain(String(evaluation.candidate.metrics[evaluation.primaryMetric]));
      await shot('2-memo');

      // 3. A forged token (a real one with its MAC altered): refused, audited, the run keeps waiting.
      const issued = await call('POST', `/lifecycles/${id}/approval-token`, 'alice', { decision: 'approve' });
      expect(issued.status).toBe(200);
      const real = JSON.parse(issued.body.signalPayload);
      const forgedToken = real.token.slice(0, -4) + (real.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
      await sendSignal(id, 'approve', JSON.stringify({ ...real, comment: 'forged in the UI', token: forgedToken }), '3-forged');
      const refused = await until('the forged decision to be reviewed', async () => {
        const run = await runOf(id);
        return run.status.decisions.length >= 1 && run;
      });
      expect(refused.status.stage).toBe('awaiting-approval');
      expect(refused.status.decisions[0]).toMatchObject({ decision: 'approve', approver: 'alice', accepted: false, state: 'refused' });
      const audit = await until('the refusal in the audit trail', async () => {
        const trail = await call('GET', `/lifecycles/${id}/decisions`, 'vic-viewer');
        return trail.body.decisions?.length >= 1 && trail.body.decisions;
      });
      expect(audit[0]).toMatchObject({ approver: 'alice', decision: 'approve', accepted: false, state: 'refused', comment: 'forged in the UI' });
      expect(audit[0].reason).toMatch(/token does not prove/);

      // 4. The payload the API issued to alice, pasted as is: accepted, the run deploys.
      const fresh = await call('POST', `/lifecycles/${id}/approval-token`, 'alice', { decision: 'approve' });
      expect(fresh.status).toBe(200);
      await sendSignal(id, 'approve', fresh.body.signalPayload, '4-approve');
      const done = await until('the run to end', async () => {
        const run = await runOf(id);
        // The run has ended when Temporal says so (its status may say "done" a moment before: late decisions are still audited).
        return run.temporalStatus !== 'RUNNING' && run;
      }, 30_000);
      expect(done.temporalStatus).toBe('COMPLETED');
      expect(done.status.outcome).toBe('deployed');
      const trail = (await call('GET', `/lifecycles/${id}/decisions`, 'vic-viewer')).body.decisions;
      expect(trail.map((d: any) => [d.approver, d.accepted])).toEqual([['alice', false], ['alice', true]]);

      // Both signals really came from the UI: they are in the run's history.
      const history = await h.client.workflow.getHandle(id).fetchHistory();
      const signals = history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
      expect(signals).toEqual(['approve', 'approve']);
      // The approver's page, refreshed: the run completed and its memo records the outcome.
      await page.reload();
      await expect.poll(() => page.locator('main').innerText()).toMatch(/Completed/);
      await expect.poll(() => memo.innerText()).toMatch(/"outcome":\s*"deployed"/);
      await shot('5-completed');
      if (!process.env.UI_SCREENSHOTS) await fs.rm(shots, { recursive: true, force: true });
    } catch (err) {
      await shot('failure').catch(() => {});
      throw Object.assign(err as Error, { message: `${(err as Error).message}\n(screenshots in ${shots})` });
    }
  });
});
