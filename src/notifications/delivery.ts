// One POST of one event to one webhook endpoint. Node's http client rather than fetch: its `lookup` hook
// sees the very address a connection is made to, so the SSRF check cannot be dodged by a name that
// resolves differently the second time (DNS rebinding); and it never follows redirects.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { durationMs } from '../schemas/lifecycle';
import { sanitize } from '../domain/quote';
import type { WebhookEndpoint } from './endpoints';
import type { NotificationEvent } from './events';
import { signedHeaders } from './signing';

/** Of an answer, only this much is read (for the failure message); the rest is dropped unread. */
const MAX_RESPONSE_BYTES = 4096;

/** Link-local and cloud metadata addresses (AWS, GCP, Azure: 169.254.169.254; Alibaba; AWS over IPv6). */
const LINK_LOCAL = new net.BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addAddress('100.100.100.200', 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');
/** Never a webhook, whatever the settings: "this host" and multicast/broadcast. */
const NEVER = new net.BlockList();
NEVER.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER.addSubnet('224.0.0.0', 4, 'ipv4');
NEVER.addAddress('255.255.255.255', 'ipv4');
NEVER.addAddress('::', 'ipv6');
NEVER.addSubnet('ff00::', 8, 'ipv6');

/** Why `address` may not be connected to, or null when it may. IPv4-mapped IPv6 addresses count as IPv4. */
export function refusedAddress(address: string, allowLinkLocal: boolean): string | null {
  const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
  if (NEVER.check(address, family)) return `${address} is not a host address`;
  if (!allowLinkLocal && LINK_LOCAL.check(address, family)) return `${address} is link-local or a cloud metadata address (allow with NOTIFY_ALLOW_LINK_LOCAL=true)`;
  return null;
}

export class DeliveryError extends Error {
  constructor(
    message: string,
    /**
     * `failed`: not reached, timed out, 5xx, 408 or 429 (worth retrying); `rejected`: any other 4xx or a
     * redirect; `refused`: the address may not be connected to. Retrying cannot help the last two.
     */
    readonly kind: 'failed' | 'rejected' | 'refused',
    /** The receiver's Retry-After, when it gave one. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface Delivered {
  status: number;
  ms: number;
}

/** A DNS lookup that fails when any address of the name is refused, so the socket never reaches it. */
function guardedLookup(allowLinkLocal: boolean): net.LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.map((a) => refusedAddress(a.address, allowLinkLocal)).find(Boolean);
      if (refused) return callback(Object.assign(new Error(`${hostname} resolves to ${refused}`), { code: 'EREFUSEDADDRESS' }), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/** Retry-After in seconds or as an HTTP date, in ms from now. */
function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * POSTs `event` to `endpoint`, signed with its secret; resolves on a 2xx, throws a DeliveryError otherwise.
 * Messages name the endpoint, never its URL (which may be a credential) or secret.
 */
export async function deliverWebhook(endpoint: WebhookEndpoint, event: NotificationEvent, options: { allowLinkLocal: boolean }): Promise<Delivered> {
  const url = new URL(endpoint.url);
  const literal = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // Connections to an IP literal skip the lookup: checked here instead.
  const refused = net.isIP(literal) ? refusedAddress(literal, options.allowLinkLocal) : null;
  if (refused) throw new DeliveryError(`webhook "${endpoint.name}": refused: ${refused}`, 'refused');

  const body = JSON.stringify(event);
  const started = Date.now();
  const timeoutMs = durationMs(endpoint.timeout);
  const request = (url.protocol === 'https:' ? https : http).request;
  const answer = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'lifecycle-webhooks/1', ...signedHeaders(endpoint.secret, event, body) },
      lookup: guardedLookup(options.allowLinkLocal),
      agent: false,
    });
    // One deadline for connecting, sending and reading the answer.
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${endpoint.timeout}`), { code: 'ETIMEDOUT' })), timeoutMs);
    req.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (chunk: Buffer) => {
        if (kept < MAX_RESPONSE_BYTES) chunks.push(chunk.subarray(0, MAX_RESPONSE_BYTES - kept));
        kept += chunk.length;
        if (kept >= MAX_RESPONSE_BYTES) res.destroy(); // enough to say what went wrong; never buffer a large answer
      });
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      };
      res.once('end', done);
      res.once('close', done);
      res.once('error', done);
    });
    req.end(body);
  }).catch((err: NodeJS.ErrnoException) => {
    const kind = err.code === 'EREFUSEDADDRESS' ? 'refused' : 'failed';
    throw new DeliveryError(`webhook "${endpoint.name}": ${kind === 'refused' ? 'refused' : 'not reached'}: ${sanitize(err.message, 200)}`, kind);
  });

  const ms = Date.now() - started;
  const { status } = answer;
  if (status >= 200 && status < 300) return { status, ms };
  const said = answer.text ? `: ${sanitize(answer.text.trim(), 200)}` : '';
  if (status >= 300 && status < 400) throw new DeliveryError(`webhook "${endpoint.name}" answered ${status} (a redirect, not followed: configure the final URL)`, 'rejected');
  if (status >= 500 || status === 408 || status === 429) {
    throw new DeliveryError(`webhook "${endpoint.name}" answered ${status}${said}`, 'failed', retryAfterMs(answer.headers['retry-after']?.toString(), Date.now()));
  }
  throw new DeliveryError(`webhook "${endpoint.name}" answered ${status}${said}`, 'rejected');
}
