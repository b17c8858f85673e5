// Links to stored reports that an approver can open from the Temporal UI, where no API token is at hand:
// the link carries the report's ref and an expiry, signed with the product's secret, so it opens that one
// report until it expires and cannot be altered to open anything else.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { ArtifactRef } from '../artifacts/store';

const Ref = z.object({ uri: z.string().max(2048), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().min(0) }).strict();

/** A distinct key for report links, so that they can never stand in for an approval token or proof. */
const sign = (secret: string, payload: string) => createHmac('sha256', secret).update(`report-link\n${payload}`).digest('base64url');

export interface ReportLinkOptions {
  secret: string;
  /** The API's address as approvers reach it, e.g. https://lifecycle.example.com (PUBLIC_API_URL). */
  baseUrl: string;
  ttlMs: number;
}

export function reportLink(ref: ArtifactRef, options: ReportLinkOptions, now = Date.now()): string {
  const payload = Buffer.from(JSON.stringify({ uri: ref.uri, sha256: ref.sha256, bytes: ref.bytes })).toString('base64url');
  const expires = Math.floor((now + options.ttlMs) / 1000);
  const query = new URLSearchParams({ ref: payload, expires: String(expires), signature: sign(options.secret, `${payload}.${expires}`) });
  return `${options.baseUrl.replace(/\/+$/, '')}/reports/view?${query}`;
}

/** The ref a link opens, or why it does not open anything. */
export function openReportLink(secret: string, query: { ref: string; expires: string; signature: string }, now = Date.now()): { ref: ArtifactRef } | { refused: string } {
  const expected = Buffer.from(sign(secret, `${query.ref}.${query.expires}`));
  const given = Buffer.from(query.signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { refused: 'the link is not valid (altered or from another installation)' };
  if (!(Number(query.expires) * 1000 > now)) return { refused: 'the link has expired: open the run again in the Temporal UI or the API for a fresh one' };
  const parsed = Ref.safeParse(JSON.parse(Buffer.from(query.ref, 'base64url').toString('utf8')));
  return parsed.success ? { ref: parsed.data } : { refused: 'the link is not valid' };
}
