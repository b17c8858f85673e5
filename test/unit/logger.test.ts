import { Writable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger';
import { pinoTemporalLogger } from '../../src/workers/temporalLogging';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}

const secrets = {
  token: 'tok-SECRET-1',
  nested: { password: 'pw-SECRET-2', connectionString: 'postgresql://u:pw-SECRET-3@h/db' },
  headers: { authorization: 'Bearer SECRET-4' },
};

describe('logger formats', () => {
  it('pretty: human-readable, secrets redacted', () => {
    const out = capture();
    createLogger('info', { format: 'pretty', destination: out.stream }).info(secrets, 'hello there');
    const text = out.text();
    expect(text).toMatch(/INFO.*hello there/);
    expect(text.trimStart().startsWith('{')).toBe(false); // not a JSON line
    expect(text).toContain('[redacted]');
    expect(text).not.toMatch(/SECRET/);
  });

  it('json: one JSON object a line, secrets redacted', () => {
    const out = capture();
    createLogger('info', { format: 'json', destination: out.stream }).info(secrets, 'hello there');
    const line = JSON.parse(out.text());
    expect(line).toMatchObject({ msg: 'hello there', token: '[redacted]', nested: { password: '[redacted]' } });
    expect(out.text()).not.toMatch(/SECRET/);
  });

  it('redacts the S3 secret: the variable, and the settings object wherever the config carries it', async () => {
    const { loadConfig } = await import('../../src/config');
    const config = loadConfig({ S3_ACCESS_KEY_ID: 'AKIAEXAMPLE', S3_SECRET_ACCESS_KEY: 'wJalrXUtn-s3-value-5', ARTIFACT_STORE: 's3://lake/artifacts' });
    for (const format of ['json', 'pretty'] as const) {
      const out = capture();
      createLogger('info', { format, destination: out.stream }).info({ config, settings: config.s3, nested: { policy: config.ingest } }, 'starting');
      expect(out.text()).toContain('AKIAEXAMPLE'); // the key id is not a secret
      expect(out.text()).toContain('[redacted]');
      expect(out.text()).not.toContain('wJalrXUtn-s3-value-5');
    }
  });

  it('auto: JSON when the output is not a terminal', () => {
    const out = capture();
    createLogger('info', { format: 'auto', destination: out.stream }).info('x');
    expect(() => JSON.parse(out.text())).not.toThrow();
  });
});

describe('Temporal SDK logs through pino', () => {
  function sdkLog(error: unknown) {
    const out = capture();
    pinoTemporalLogger(createLogger('info', { format: 'json', destination: out.stream })).warn('Workflow failed', {
      error,
      workflowId: 'wf-1',
    });
    return JSON.parse(out.text());
  }

  it('serialises an error with its type, message, stack and failure fields (not `{}`)', () => {
    const line = sdkLog(ApplicationFailure.nonRetryable('rows[3].price is not a number', 'DatasetInvalid'));
    expect(line.workflowId).toBe('wf-1');
    expect(line.error).toMatchObject({
      type: 'ApplicationFailure',
      message: 'rows[3].price is not a number',
      nonRetryable: true,
    });
    expect(line.error.stack).toContain('rows[3].price is not a number');
    expect(line.error.failureType).toBe('DatasetInvalid');
  });

  it('keeps the cause, and errors cloned across a worker thread', () => {
    const cloned = structuredClone(new Error('activity task failed', { cause: new Error('disk full') }));
    const line = sdkLog(cloned);
    expect(line.error.message).toContain('activity task failed');
    expect(line.error.message).toContain('disk full');
    expect(line.error.stack).toContain('activity task failed');
  });

  it('leaves other metadata alone', () => {
    const out = capture();
    pinoTemporalLogger(createLogger('info', { format: 'json', destination: out.stream })).info('x', { attempt: 2, message: 'not an error' });
    expect(JSON.parse(out.text())).toMatchObject({ attempt: 2, message: 'not an error' });
  });
});
