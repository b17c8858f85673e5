// Signed links to stored reports: a link opens its one report until it expires, and nothing else.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ArtifactRef } from '../../src/artifacts/store';
import { openReportLink, reportLink, type ReportLinkOptions } from '../../src/reports/links';

const SECRET = 'report-link-test-secret-0123456789';
const OPTIONS: ReportLinkOptions = { secret: SECRET, baseUrl: 'https://lifecycle.example.com', ttlMs: 7 * 24 * 3600 * 1000 };
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const ref = (name: string): ArtifactRef => ({ uri: `file:///var/lib/lifecycle/reports/${name}.html`, sha256: createHash('sha256').update(name).digest('hex'), bytes: 1234 });
const REPORT = ref('report-a');
const OTHER = ref('report-b');

const INVALID = 'the link is not valid (altered or from another installation)';
const EXPIRED = 'the link has expired: open the run again in the Temporal UI or the API for a fresh one';

/** The query of a link, as the API route receives it. */
function queryOf(link: string): { ref: string; expires: string; signature: string } {
  const url = new URL(link);
  return { ref: url.searchParams.get('ref')!, expires: url.searchParams.get('expires')!, signature: url.searchParams.get('signature')! };
}

describe('report links', () => {
  it('a link opens its report until it expires', () => {
    const link = reportLink(REPORT, OPTIONS, NOW);
    expect(link.startsWith('https://lifecycle.example.com/reports/view?')).toBe(true);
    const query = queryOf(link);
    expect(Number(query.expires)).toBe(Math.floor((NOW + OPTIONS.ttlMs) / 1000));
    expect(openReportLink(SECRET, query, NOW)).toEqual({ ref: REPORT });
    expect(openReportLink(SECRET, query, NOW + OPTIONS.ttlMs - 1000)).toEqual({ ref: REPORT });
  });

  it('a base URL with trailing slashes gives the same path', () => {
    expect(reportLink(REPORT, { ...OPTIONS, baseUrl: 'https://lifecycle.example.com//' }, NOW)).toBe(reportLink(REPORT, OPTIONS, NOW));
  });

  it('an expired link is refused, from its expiry second on', () => {
    const query = queryOf(reportLink(REPORT, OPTIONS, NOW));
    const expiry = Number(query.expires) * 1000;
    expect(openReportLink(SECRET, query, expiry - 1)).toEqual({ ref: REPORT });
    expect(openReportLink(SECRET, query, expiry)).toEqual({ refused: EXPIRED });
    expect(openReportLink(SECRET, query, expiry + 86_400_000)).toEqual({ refused: EXPIRED });
  });

  it('a link whose ref is swapped for another report is refused', () => {
    const query = queryOf(reportLink(REPORT, OPTIONS, NOW));
    const other = queryOf(reportLink(OTHER, OPTIONS, NOW));
    expect(other.ref).not.toBe(query.ref);
    expect(openReportLink(SECRET, { ...query, ref: other.ref }, NOW)).toEqual({ refused: INVALID });
    // A ref edited by hand (a byte changed in its payload) too.
    const edited = Buffer.from(query.ref, 'base64url').toString('utf8').replace('report-a', 'report-c');
    expect(openReportLink(SECRET, { ...query, ref: Buffer.from(edited).toString('base64url') }, NOW)).toEqual({ refused: INVALID });
  });

  it('a link with a later expiry is refused', () => {
    const query = queryOf(reportLink(REPORT, OPTIONS, NOW));
    expect(openReportLink(SECRET, { ...query, expires: String(Number(query.expires) + 3600) }, NOW)).toEqual({ refused: INVALID });
  });

  it('an altered, shortened, lengthened or missing signature is refused', () => {
    const query = queryOf(reportLink(REPORT, OPTIONS, NOW));
    const s = query.signature;
    const flipped = `${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    for (const signature of [flipped, s.slice(0, -1), `${s}A`, '', 'x'.repeat(s.length)]) {
      expect(openReportLink(SECRET, { ...query, signature }, NOW)).toEqual({ refused: INVALID });
    }
  });

  it('a link signed with another secret (another installation) is refused', () => {
    const query = queryOf(reportLink(REPORT, { ...OPTIONS, secret: 'another-installation-secret-987654' }, NOW));
    expect(openReportLink(SECRET, query, NOW)).toEqual({ refused: INVALID });
  });

  it('an HMAC of the same payload without the report-link key prefix does not open it (no standing in for other tokens)', () => {
    const query = queryOf(reportLink(REPORT, OPTIONS, NOW));
    const bare = createHmac('sha256', SECRET).update(`${query.ref}.${query.expires}`).digest('base64url');
    expect(bare).toHaveLength(query.signature.length);
    expect(openReportLink(SECRET, { ...query, signature: bare }, NOW)).toEqual({ refused: INVALID });
  });

  it('a correctly signed ref that is not an artifact ref is refused', () => {
    const query = queryOf(reportLink({ uri: 'file:///x', sha256: 'not-a-hash', bytes: 1 }, OPTIONS, NOW));
    expect(openReportLink(SECRET, query, NOW)).toEqual({ refused: 'the link is not valid' });
  });
});
