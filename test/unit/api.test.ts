import { describe, expect, it } from 'vitest';
import { requesterProof, verifyApprovalToken } from '../../src/auth/approvalToken';
import { PredictionError } from '../../src/serving/predictor';
import type { ReviewedDecision } from '../../src/workflows/definitions';
import { fakeApi } from '../support/fakeApi';
import { tokenOf } from '../support/harness';

const SECRET = 'unit-test-approval-secret-0123456789';
const bearer = (identity: string) => ({ authorization: `Bearer ${tokenOf(identity)}` });
const json = { 'content-type': 'application/json' };
const validStart = { modelName: 'cars', datasetUri: 'cars.csv', target: 'price', features: ['year'], approvers: ['alice'] };

const verdict = (over: Partial<ReviewedDecision>): ReviewedDecision => ({
  decision: 'approve', approver: 'alice', comment: '', accepted: true, state: 'accepted', final: true, reason: 'approved', receivedAt: new Date().toISOString(), ...over,
});

describe('authentication comes before the body', () => {
  it('answers 401, not 400, to an anonymous request with an invalid body', async () => {
    const { app, calls } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers: json, payload: { features: 'not-a-list' } });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toEqual({ error: expect.stringMatching(/bearer token/) });
    expect(calls.started).toHaveLength(0);
  });

  it('answers 401 to a large anonymous body without reading it as JSON (not 400 invalid JSON, not 413)', async () => {
    const { app } = await fakeApi();
    const big = `{"rows": [${'x'.repeat(5 * 1024 * 1024)}`; // beyond every limit, and not JSON
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: json, payload: big });
    expect(r.statusCode).toBe(401);
  });

  it('answers 403 to the wrong role before validating the body', async () => {
    const { app } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers: { ...json, ...bearer('vic-viewer') }, payload: '{not json' });
    expect(r.statusCode).toBe(403);
  });

  it('rate-limits wrong tokens per address with 429 and Retry-After; valid tokens and missing tokens are not counted', async () => {
    const { app } = await fakeApi({ deps: { authFailuresPerMinute: 3 } });
    const wrong = () => app.inject({ method: 'GET', url: '/models', headers: { authorization: 'Bearer wrong-token-0123456789' } });
    for (let i = 0; i < 10; i++) expect((await app.inject({ method: 'GET', url: '/models' })).statusCode).toBe(401);
    for (let i = 0; i < 3; i++) expect((await wrong()).statusCode).toBe(401);
    const limited = await wrong();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error).toMatch(/too many failed authentication attempts/);
    expect((await app.inject({ method: 'GET', url: '/models', headers: bearer('vic-viewer') })).statusCode).toBe(200);
  });

  it('keeps /health and /openapi.json public', async () => {
    const { app } = await fakeApi();
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(200);
  });
});

describe('starting runs: the requester is proven', () => {
  it('adds a requester proof for the caller and the generated workflow id', async () => {
    const { app, calls } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers: bearer('eve-engineer'), payload: validStart });
    expect(r.statusCode).toBe(201);
    const { workflowId } = r.json();
    expect(calls.started[0]).toMatchObject({ requestedBy: 'eve-engineer', requesterProof: requesterProof(SECRET, workflowId, 'eve-engineer') });
  });

  it.each(['requesterProof', 'requestedBy'])('refuses a client-supplied %s with a 400 naming it', async (field) => {
    const { app, calls } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers: bearer('eve-engineer'), payload: { ...validStart, [field]: 'forged' } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toContain(`${field}: is set by the API`);
    expect(calls.started).toHaveLength(0);
  });

  it('still checks what JSON Schema cannot say: the target is not a feature', async () => {
    const { app } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/lifecycles', headers: bearer('eve-engineer'), payload: { ...validStart, features: ['price'] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/features: must not contain the target column "price"/);
  });

  it('issues a requester proof and a start command for the plain Temporal CLI (engineers and admins only)', async () => {
    const { app } = await fakeApi();
    expect((await app.inject({ method: 'POST', url: '/lifecycles/requester-proof', headers: bearer('alice'), payload: { workflowId: 'w-1' } })).statusCode).toBe(403);
    const r = await app.inject({ method: 'POST', url: '/lifecycles/requester-proof', headers: bearer('eve-engineer'), payload: { workflowId: 'w-1' } });
    expect(r.statusCode).toBe(200);
    const proof = requesterProof(SECRET, 'w-1', 'eve-engineer');
    expect(r.json()).toMatchObject({ workflowId: 'w-1', requestedBy: 'eve-engineer', requesterProof: proof });
    expect(r.json().temporalCli).toContain(`workflow start --type modelLifecycle --task-queue tq --workflow-id w-1 --input '{"requestedBy":"eve-engineer","requesterProof":"${proof}"}'`);
  });
});

describe('approval tokens', () => {
  const runs = { live: { runId: 'run-7', status: 'RUNNING' as const }, done: { runId: 'run-1', status: 'COMPLETED' as const, outcome: 'deployed' } };

  it('issues a token bound to the caller, the current run id and the decision, with a complete CLI command', async () => {
    const { app } = await fakeApi({ runs, deps: { temporalCli: { path: '/opt/temporal', address: '10.0.0.1:7233', namespace: 'ml' }, approvalTokenTtlMs: 600_000 } });
    const r = await app.inject({ method: 'POST', url: '/lifecycles/live/approval-token', headers: bearer('alice'), payload: { decision: 'reject' } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ approver: 'alice', decision: 'reject', runId: 'run-7', signalName: 'reject' });
    const scope = { workflowId: 'live', runId: 'run-7', approver: 'alice', decision: 'reject' as const };
    expect(verifyApprovalToken(SECRET, body.token, scope, new Date())).toMatchObject({ ok: true });
    expect(verifyApprovalToken(SECRET, body.token, { ...scope, decision: 'approve' }, new Date()).ok).toBe(false);
    expect(Date.parse(body.expiresAt) - Date.now()).toBeLessThanOrEqual(600_000);
    expect(JSON.parse(body.signalPayload)).toEqual({ approver: 'alice', comment: '', token: body.token });
    expect(body.temporalCli).toBe(
      `/opt/temporal workflow signal --workflow-id live --run-id run-7 --name reject --input '${body.signalPayload}' --address 10.0.0.1:7233 --namespace ml`,
    );
  });

  it('defaults to approve, answers 404 for an unknown run and 409 with the outcome for a closed one', async () => {
    const { app } = await fakeApi({ runs });
    const ok = await app.inject({ method: 'POST', url: '/lifecycles/live/approval-token', headers: bearer('alice') });
    expect(ok.json()).toMatchObject({ decision: 'approve', signalName: 'approve' });
    expect((await app.inject({ method: 'POST', url: '/lifecycles/nope/approval-token', headers: bearer('alice') })).statusCode).toBe(404);
    const closed = await app.inject({ method: 'POST', url: '/lifecycles/done/approval-token', headers: bearer('alice') });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error).toMatch(/outcome "deployed"/);
  });
});

describe('decisions go to the workflow as an update', () => {
  const live = (decide: (u: any) => ReviewedDecision) => ({ live: { runId: 'run-7', status: 'RUNNING' as const, decide }, done: { runId: 'run-1', status: 'COMPLETED' as const, outcome: 'rejected' } });

  it('sends a token made for this caller, run and decision, and answers 200 on acceptance', async () => {
    const { app, calls } = await fakeApi({ runs: live((u) => verdict({ approver: u.approver, comment: u.comment })) });
    const r = await app.inject({ method: 'POST', url: '/lifecycles/live/approve', headers: bearer('alice'), payload: { comment: 'ok' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ approver: 'alice', accepted: true, state: 'accepted', comment: 'ok' });
    const update = calls.updates[0] as { token: string };
    expect(update).toMatchObject({ decision: 'approve', approver: 'alice', comment: 'ok' });
    expect(verifyApprovalToken(SECRET, update.token, { workflowId: 'live', runId: 'run-7', approver: 'alice', decision: 'approve' }, new Date()).ok).toBe(true);
  });

  it('maps refused to 403 and not-waiting to 409, with the reason', async () => {
    const refusing = await fakeApi({ runs: live((u) => verdict({ approver: u.approver, accepted: false, state: 'refused', reason: 'four-eyes rule' })) });
    const refused = await refusing.app.inject({ method: 'POST', url: '/lifecycles/live/reject', headers: bearer('bob'), payload: {} });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: 'four-eyes rule', verdict: { approver: 'bob', state: 'refused' } });
    const early = await fakeApi({ runs: live(() => verdict({ accepted: false, state: 'not-waiting', reason: 'the run is not waiting for a decision yet (stage train)' })) });
    const notWaiting = await early.app.inject({ method: 'POST', url: '/lifecycles/live/approve', headers: bearer('alice') });
    expect(notWaiting.statusCode).toBe(409);
    expect(notWaiting.json().error).toMatch(/not waiting/);
  });

  it('answers 409 with the outcome for a closed run and 404 for an unknown one', async () => {
    const { app, calls } = await fakeApi({ runs: live(() => verdict({})) });
    const closed = await app.inject({ method: 'POST', url: '/lifecycles/done/approve', headers: bearer('alice') });
    expect(closed.statusCode).toBe(409);
    expect(closed.json().error).toMatch(/outcome "rejected"/);
    expect((await app.inject({ method: 'POST', url: '/lifecycles/nope/approve', headers: bearer('alice') })).statusCode).toBe(404);
    expect(calls.updates).toHaveLength(0);
  });
});

describe('bounds and clear refusals', () => {
  it('answers 422 naming the row when the predictor finds no finite prediction', async () => {
    const { app } = await fakeApi({ predict: async () => { throw new PredictionError('rows[1]: the model\'s prediction is not a finite number (Infinity)'); } });
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: bearer('vic-viewer'), payload: { rows: [{}, {}] } });
    expect(r.statusCode).toBe(422);
    expect(r.json().error).toMatch(/^rows\[1\]: /);
  });

  it('never sends a non-finite prediction as null: the response schema refuses it', async () => {
    const { app } = await fakeApi({ predict: async (model) => ({ model, version: 1, predictions: [Number.POSITIVE_INFINITY] }) });
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: bearer('vic-viewer'), payload: { rows: [{}] } });
    expect(r.statusCode).toBe(500);
    expect(r.body).not.toContain('null');
  });

  it('names a __proto__ key instead of answering "Body is not valid JSON"', async () => {
    const { app, calls } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: { ...json, ...bearer('vic-viewer') }, payload: '{"rows":[{"year":1,"__proto__":{"x":1}}]}' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('rows[0].__proto__: keys named "__proto__" (or constructor.prototype) are not accepted');
    expect(calls.predicted).toBe(0);
  });

  it('says what is wrong with a body that is not JSON', async () => {
    const { app } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: { ...json, ...bearer('vic-viewer') }, payload: '{"rows": [' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toMatch(/^the body is not valid JSON: /);
  });

  it('holds run ids to the documented 255 characters with a 400 naming the id; the router\'s 414 comes only far above', async () => {
    const { app } = await fakeApi();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const documented = doc.paths['/lifecycles/{id}'].get.parameters.find((p: { name: string }) => p.name === 'id').schema.maxLength;
    expect(documented).toBe(255);
    const at = await app.inject({ method: 'GET', url: `/lifecycles/${'a'.repeat(documented)}`, headers: bearer('vic-viewer') });
    expect(at.statusCode).toBe(404);
    const over = await app.inject({ method: 'GET', url: `/lifecycles/${'a'.repeat(documented + 1)}`, headers: bearer('vic-viewer') });
    expect(over.statusCode).toBe(400);
    expect(over.json().error).toMatch(/^invalid params: id: /);
    const huge = await app.inject({ method: 'GET', url: `/lifecycles/${'a'.repeat(1025)}`, headers: bearer('vic-viewer') });
    expect(huge.statusCode).toBe(414);
    expect(huge.json()).toEqual({ error: expect.any(String) });
    expect(doc.paths['/lifecycles/{id}'].get.responses['414'].description).toMatch(/1024/);
  });

  it('names a non-finite feature value (JSON 1e309 is Infinity) instead of "got null"', async () => {
    const { app, calls } = await fakeApi();
    const r = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: { ...json, ...bearer('vic-viewer') }, payload: '{"rows":[{"year":1e309}]}' });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('invalid body: rows[0].year: not a finite number (Infinity)');
    expect(calls.predicted).toBe(0);
  });

  it('bounds bodies per route with 413 in the error shape', async () => {
    const { app } = await fakeApi();
    const comment = 'x'.repeat(20 * 1024);
    const r = await app.inject({ method: 'POST', url: '/lifecycles/live/approve', headers: { ...json, ...bearer('alice') }, payload: JSON.stringify({ comment }) });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatch(/larger than the 16384 bytes/);
    const rows = Array.from({ length: 10_000 }, () => ({ make: 'Mercedes-Benz', model: 'GLE Coupe', year: 2020, mileage_km: 123456.5, fuel: 'plug-in hybrid', region: 'north-east' }));
    const big = await app.inject({ method: 'POST', url: '/models/cars/predict', headers: { ...json, ...bearer('vic-viewer') }, payload: JSON.stringify({ rows }) });
    expect(big.statusCode).toBe(200); // the largest valid predict body fits its limit
  });

  it('answers 405 with Allow for a known path and a method it does not serve', async () => {
    const { app } = await fakeApi();
    const r = await app.inject({ method: 'DELETE', url: '/lifecycles/some-run' });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    // A body-carrying method without content-type still gets the 405, not a body-parsing 400.
    expect((await app.inject({ method: 'QUERY', url: '/models' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
  });
});

describe('the OpenAPI document', () => {
  it('documents, for every operation, the statuses the server answers, with one shared ErrorBody', async () => {
    const { app } = await fakeApi();
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(doc.components.schemas.ErrorBody).toBeDefined();
    const operations = Object.entries(doc.paths).flatMap(([path, methods]: [string, any]) => Object.entries(methods).map(([method, op]: [string, any]) => ({ path, method, op })));
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(['post /lifecycles/{id}/approval-token', 'post /lifecycles/requester-proof']));
    for (const { path, method, op } of operations) {
      const statuses = Object.keys(op.responses);
      // A public operation (the signed report link) is authorised by its signature: no 401, no 429.
      if (Array.isArray(op.security) && op.security.length === 0) {
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '403']));
        continue;
      }
      expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403', '429']));
      if (path.includes('{')) expect(statuses, `${method} ${path}`).toContain('414');
      if (op.requestBody) expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['413', '415']));
      expect(op.responses['401'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorBody');
    }
    const approve = doc.paths['/lifecycles/{id}/approve'].post.responses;
    expect(Object.keys(approve)).toEqual(expect.arrayContaining(['200', '403', '404', '409', '503']));
    expect(doc.paths['/lifecycles'].post.responses['201']).toBeDefined();
    expect(doc.paths['/models/{name}/predict'].post.responses['422']).toBeDefined();
    expect(doc.paths['/health']).toBeUndefined();
  });
});
