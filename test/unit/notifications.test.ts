import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { refusedAddress } from '../../src/notifications/delivery';
import { parseWebhooks } from '../../src/notifications/endpoints';
import { NotificationEvent, type NotificationEventInput } from '../../src/notifications/events';
import { signedHeaders, verifyWebhook, webhookSignature, WEBHOOK_HEADERS } from '../../src/notifications/signing';

const SECRET = 'test-secret-0123456789abcdef0123456789';
const NOW = Date.parse('2026-01-01T00:00:00Z');

const event: NotificationEventInput = {
  type: 'model.deployed',
  id: 'evt_0f1e2d3c',
  time: '2026-01-01T00:00:00.000Z',
  model: 'used-cars',
  workflow: { id: 'lifecycle-used-cars-1', runId: '6b1a0c57-0000-4000-8000-000000000001' },
  summary: 'used-cars v3 is in production (was v2)',
  links: { status: 'http://127.0.0.1:3000/lifecycles/lifecycle-used-cars-1', report: 'http://127.0.0.1:3000/reports/view?ref=abc&expires=1&signature=xyz' },
  data: { alias: 'production', version: 3, previousVersion: 2 },
};

function signed(body = JSON.stringify(event), now = NOW, secret = SECRET) {
  return { body, headers: signedHeaders(secret, { id: event.id, type: event.type }, body, now) };
}

describe('webhook signatures', () => {
  it('match an HMAC-SHA256 computed elsewhere (Python hmac) over "<timestamp>.<body>", in hex', () => {
    // python3 -c "import hmac,hashlib; print(hmac.new(SECRET, b'1767225600.{\"type\":\"model.deployed\"}', hashlib.sha256).hexdigest())"
    expect(webhookSignature(SECRET, 1767225600, '{"type":"model.deployed"}')).toBe('b5a2a2f6e1b0f01a03e43f2cfaaaa921dfed493832d9fe37e61c3bf5c2e30fc1');
    const { headers } = signed('{"type":"model.deployed"}');
    expect(headers).toEqual({
      [WEBHOOK_HEADERS.type]: 'model.deployed',
      [WEBHOOK_HEADERS.id]: 'evt_0f1e2d3c',
      [WEBHOOK_HEADERS.timestamp]: '1767225600',
      [WEBHOOK_HEADERS.signature]: 'v1=b5a2a2f6e1b0f01a03e43f2cfaaaa921dfed493832d9fe37e61c3bf5c2e30fc1',
    });
  });

  it('verify: a genuine request gives the event, from Node headers or fetch Headers, body as text or bytes', () => {
    const { body, headers } = signed();
    expect(verifyWebhook(SECRET, headers, body, { now: NOW + 1000 })).toEqual(NotificationEvent.parse(event));
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(SECRET, new Headers(upper), Buffer.from(body), { now: NOW }).id).toBe(event.id);
  });

  it('refuses a tampered body, a wrong secret, a tampered signature', () => {
    const { body, headers } = signed();
    expect(() => verifyWebhook(SECRET, headers, body.replace('"version":3', '"version":4'), { now: NOW })).toThrow(/signature mismatch/);
    expect(() => verifyWebhook(`${SECRET}x`, headers, body, { now: NOW })).toThrow(/signature mismatch/);
    const flipped = headers[WEBHOOK_HEADERS.signature].replace(/.$/, (c) => (c === '0' ? '1' : '0'));
    expect(() => verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.signature]: flipped }, body, { now: NOW })).toThrow(/signature mismatch/);
  });

  it('refuses an old timestamp (a replay) and one from the future, beyond the tolerance only', () => {
    const { body, headers } = signed();
    expect(verifyWebhook(SECRET, headers, body, { now: NOW + 300_000 }).id).toBe(event.id);
    expect(() => verifyWebhook(SECRET, headers, body, { now: NOW + 301_000 })).toThrow(/more than 300s away/);
    expect(() => verifyWebhook(SECRET, headers, body, { now: NOW - 301_000 })).toThrow(/more than 300s away/);
    expect(() => verifyWebhook(SECRET, headers, body, { now: NOW + 61_000, toleranceSeconds: 60 })).toThrow(/more than 60s away/);
    // A replay with a fresh timestamp header: the signature covers the timestamp.
    const fresh = { ...headers, [WEBHOOK_HEADERS.timestamp]: String(NOW / 1000 + 3600) };
    expect(() => verifyWebhook(SECRET, fresh, body, { now: NOW + 3_600_000 })).toThrow(/signature mismatch/);
  });

  it('refuses missing or malformed headers, and id or type headers that differ from the signed body', () => {
    const { body, headers } = signed();
    const without = (name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    expect(() => verifyWebhook(SECRET, without(WEBHOOK_HEADERS.timestamp), body, { now: NOW })).toThrow(/lifecycle-timestamp/);
    expect(() => verifyWebhook(SECRET, without(WEBHOOK_HEADERS.signature), body, { now: NOW })).toThrow(/lifecycle-signature/);
    expect(() => verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.signature]: 'sha256=abc' }, body, { now: NOW })).toThrow(/malformed/);
    expect(() => verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.id]: 'evt_other' }, body, { now: NOW })).toThrow(/does not match/);
    expect(() => verifyWebhook(SECRET, { ...headers, [WEBHOOK_HEADERS.type]: 'run.failed' }, body, { now: NOW })).toThrow(/does not match/);
    expect(() => verifyWebhook('', headers, body, { now: NOW })).toThrow(/no secret/);
  });

  it('refuses a genuinely signed body that is not an event', () => {
    const { body, headers } = signed('{"hello":"world"}');
    expect(() => verifyWebhook(SECRET, headers, body, { now: NOW })).toThrow(/not a notification event/);
  });
});

describe('notification events', () => {
  it('refuse links that carry credentials or tokens, and unknown types', () => {
    const withLink = (url: string) => NotificationEvent.safeParse({ ...event, links: { status: url } });
    expect(withLink('https://ops.example.com/runs/1').success).toBe(true);
    for (const bad of ['https://u:p@ops.example.com/', 'http://x.example/?token=abc', 'http://x.example/?api_key=1', 'javascript:alert(1)', 'ftp://x.example/']) {
      const parsed = withLink(bad);
      expect(parsed.success, bad).toBe(false);
      expect(parsed.error!.issues[0]).toMatchObject({ path: ['links', 'status'], message: 'must be an http(s) URL without credentials or tokens' });
    }
    expect(NotificationEvent.safeParse({ ...event, type: 'model.exploded' }).success).toBe(false);
    expect(NotificationEvent.safeParse({ ...event, data: { alias: 'production', version: 3 } }).error!.issues[0].path).toEqual(['data', 'previousVersion']);
  });
});

describe('webhook settings', () => {
  const endpoint = { url: 'https://hooks.example.com/T0/B0/Xsecretpath', secret: 'w'.repeat(32) };

  it('parse with defaults: a name by position, every event type, a 10 s timeout', () => {
    expect(parseWebhooks(JSON.stringify([endpoint, { ...endpoint, name: 'ops', events: ['run.failed'] }]), 'NOTIFY_WEBHOOKS')).toEqual([
      { ...endpoint, name: 'webhook-1', timeout: '10s' },
      { ...endpoint, name: 'ops', events: ['run.failed'], timeout: '10s' },
    ]);
  });

  it('name the setting, the entry and the field of each problem, never the secret', () => {
    const error = (list: unknown[]) => {
      try {
        parseWebhooks(JSON.stringify(list), 'NOTIFY_WEBHOOKS');
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a refusal');
    };
    expect(error([{ ...endpoint, url: 'file:///etc/passwd' }])).toBe('NOTIFY_WEBHOOKS.0.url: must be an http:// or https:// URL');
    expect(error([{ ...endpoint, secret: 'short-secret-value' }])).toMatch(/^NOTIFY_WEBHOOKS\.0\.secret: must be at least 32 characters$/);
    expect(error([endpoint, { ...endpoint, events: ['drift.detected', 'nope'] }])).toMatch(/^NOTIFY_WEBHOOKS\.1\.events\.1: /);
    expect(error([{ ...endpoint, name: 'a' }, { ...endpoint, name: 'a' }])).toBe('NOTIFY_WEBHOOKS.1.name: "a" is used twice: names must be unique');
    expect(error([{ ...endpoint, timeout: '2m' }])).toBe('NOTIFY_WEBHOOKS.0.timeout: must be at most 50s');
    expect(error([{ ...endpoint, url: 'https://user:pw@hooks.example.com/' }])).toMatch(/0\.url: must not carry credentials/);
    expect(() => parseWebhooks('[{', 'NOTIFY_WEBHOOKS')).toThrow(/^NOTIFY_WEBHOOKS: must be a JSON array/);
    expect(error([{ ...endpoint, secret: 'x'.repeat(5000) }])).not.toContain('xxxxx');
  });

  it('come from NOTIFY_WEBHOOKS or NOTIFY_WEBHOOKS_FILE, not both; none by default', async () => {
    expect(loadConfig({}).notifications).toEqual({ webhooks: [], allowLinkLocal: false });
    expect(loadConfig({ NOTIFY_WEBHOOKS: JSON.stringify([endpoint]), NOTIFY_ALLOW_LINK_LOCAL: 'true' }).notifications).toMatchObject({ webhooks: [{ name: 'webhook-1' }], allowLinkLocal: true });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'webhooks-'));
    const file = path.join(dir, 'webhooks.json');
    await fs.writeFile(file, JSON.stringify([{ ...endpoint, name: 'from-file' }]));
    expect(loadConfig({ NOTIFY_WEBHOOKS_FILE: file }).notifications.webhooks[0].name).toBe('from-file');
    expect(() => loadConfig({ NOTIFY_WEBHOOKS_FILE: file, NOTIFY_WEBHOOKS: '[]' })).toThrow(/set one, not both/);
    expect(() => loadConfig({ NOTIFY_WEBHOOKS_FILE: path.join(dir, 'missing.json') })).toThrow(/NOTIFY_WEBHOOKS_FILE: cannot read .*ENOENT/);
    await fs.writeFile(file, JSON.stringify([{ ...endpoint, url: 'gopher://x' }]));
    expect(() => loadConfig({ NOTIFY_WEBHOOKS_FILE: file })).toThrow(/NOTIFY_WEBHOOKS_FILE\.0\.url: must be an http/);
    await fs.rm(dir, { recursive: true });
  });

  it('are redacted from logs: the variable, and each endpoint URL and secret wherever the config goes', () => {
    const config = loadConfig({ NOTIFY_WEBHOOKS: JSON.stringify([endpoint]) });
    for (const format of ['json', 'pretty'] as const) {
      let text = '';
      const destination = new Writable({ write: (chunk, _enc, done) => ((text += chunk.toString()), done()) });
      createLogger('info', { format, destination }).info({ config, settings: config.notifications, nested: { n: config.notifications } }, 'starting');
      expect(text).toContain('webhook-1'); // the name is how logs refer to an endpoint
      expect(text).toContain('[redacted]');
      expect(text).not.toContain('wwwwwwww');
      expect(text).not.toContain('Xsecretpath');
    }
  });
});

describe('webhook addresses (SSRF guard)', () => {
  it('refuses link-local and metadata addresses unless allowed, and never "this host" or multicast', () => {
    for (const address of ['169.254.169.254', '::ffff:169.254.169.254', 'fe80::1', 'fd00:ec2::254', '100.100.100.200']) {
      expect(refusedAddress(address, false), address).toMatch(/link-local or a cloud metadata address/);
      expect(refusedAddress(address, true), address).toBeNull();
    }
    for (const address of ['0.0.0.0', '::', '224.0.0.1', 'ff02::1', '255.255.255.255']) expect(refusedAddress(address, true), address).toMatch(/not a host address/);
    for (const address of ['127.0.0.1', '::1', '10.1.2.3', '192.168.1.10', '93.184.216.34', '2001:db8::1']) expect(refusedAddress(address, false), address).toBeNull();
  });
});
