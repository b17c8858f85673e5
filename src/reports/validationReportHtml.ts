// The validation report as one self-contained HTML page (inline CSS and SVG, no scripts, fonts or external
// resources) that an approver opens from the run's memo. Column names and category values come from
// users' files: every piece of data is escaped and long text is cut, and the page forbids scripts and
// external loads itself (Content-Security-Policy), should anything ever slip through.
import type { ColumnProfile, Histogram } from '../domain/profile';
import type { FeatureSkew, Finding, ValidationReport } from '../domain/report';

/** Longest text shown from the data (names, values, messages); longer is cut with an ellipsis. */
export const MAX_TEXT = 120;
/** Longest label inside a chart (beside a bar, about what fits in LABEL_WIDTH). */
const MAX_LABEL = 16;
/** Categories (or skew bins) drawn per chart; the rest are counted in a note. */
const MAX_BARS = 20;

/** Escapes text for HTML content and quoted attributes, cut to `max` characters. */
export function escapeHtml(value: unknown, max = MAX_TEXT): string {
  let s = String(value ?? '');
  if (s.length > max) {
    s = s.slice(0, max - 1);
    if (/[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1); // never split a surrogate pair
    s += '…';
  }
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Numbers for people: whole numbers with thousands separators, others with four significant digits. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return x.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e9 || a < 1e-3)) return x.toExponential(3).replace(/\.?0+e/, 'e');
  return x.toPrecision(4).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

const percent = (part: number, whole: number) => (whole > 0 ? `${((100 * part) / whole).toFixed(1)}%` : '—');

export const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d9dde3;padding-bottom:4px}
h3{font-size:14px;margin:0 0 6px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6e8ec;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef0f3;font-weight:600;white-space:nowrap}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.k{white-space:nowrap}
code{font:12px ui-monospace,monospace;overflow-wrap:anywhere}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:700;color:#fff}
.pass{background:#1f7a3a}.fail{background:#b42318}
.error{color:#b42318;font-weight:600}.warning{color:#9a5b00;font-weight:600}.ok{color:#1f7a3a}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e0e3e8;border-radius:6px;padding:10px;min-width:0}
.axis{display:flex;justify-content:space-between;font-size:11px;color:#5b6472}
.muted{color:#5b6472}.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
svg{display:block;max-width:100%}
`;

/** The report as a complete HTML document. */
export function renderValidationReport(report: ValidationReport): string {
  const { dataset, profile } = report;
  const schemaType = new Map(report.schema.columns.map((c) => [c.name, c.type]));
  const errors = report.findings.filter((f) => f.severity === 'error').length;
  const parts = [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Validation report ${escapeHtml(dataset.sha256.slice(0, 12))}</title><style>${STYLE}</style></head><body><main>`,
    '<h1>Validation report</h1>',
    `<p>${report.passed ? '<span class="verdict pass">Passed</span>' : '<span class="verdict fail">Failed</span>'} `,
    `<span class="muted">${formatNumber(errors)} error(s), ${formatNumber(report.findings.length - errors)} warning(s)</span></p>`,
    '<h2>Dataset</h2><table>',
    row('Content hash (SHA-256)', `<code>${escapeHtml(dataset.sha256, 200)}</code>`),
    row('Source', `<code>${escapeHtml(dataset.sourceUri, 300)}</code>`),
    row('Rows', formatNumber(dataset.rows)),
    row('Usable rows', `${formatNumber(report.usableRows)} <span class="muted">(rows dropped by policy excluded)</span>`),
    row('Columns profiled', formatNumber(profile.columns.length)),
    report.skew ? row('Compared with (production model’s dataset)', `<code>${escapeHtml(report.skew.referenceSha256, 200)}</code>`) : '',
    '</table>',
    findingsSection(report.findings),
    appliedSection(report.applied),
    '<h2>Thresholds in force</h2>',
    Object.keys(report.thresholds).length === 0
      ? '<p class="muted">None.</p>'
      : `<table>${Object.entries(report.thresholds)
          .map(([k, v]) => row(escapeHtml(k), typeof v === 'number' ? formatNumber(v) : escapeHtml(v)))
          .join('')}</table>`,
    '<h2>Columns</h2>',
    columnTable(profile.columns, profile.rows, schemaType),
    '<h2>Distributions</h2>',
    `<div class="cards">${profile.columns.map((c, i) => columnCard(c, i)).join('')}</div>`,
    report.skew ? skewSection(report.skew.features) : '',
    '</main></body></html>',
  ];
  return parts.join('');
}

/** The CSS class of a severity or skew level; none for anything else a stored report might hold. */
export const levelClass = (level: string) => (level === 'error' || level === 'warning' || level === 'ok' ? level : '');

export const row = (label: string, value: string) => `<tr><th scope="row">${label}</th><td>${value}</td></tr>`;

function findingsSection(findings: Finding[]): string {
  if (findings.length === 0) return '<h2>Findings</h2><p class="ok">No findings.</p>';
  const sorted = [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  const rows = sorted.map(
    (f) =>
      `<tr><td class="k ${levelClass(f.severity)}">${escapeHtml(f.severity)}</td><td><code>${escapeHtml(f.check)}</code></td><td>${f.column === undefined ? '' : escapeHtml(f.column)}</td><td>${escapeHtml(f.message, 600)}</td></tr>`,
  );
  return `<h2>Findings</h2><table><tr><th>Severity</th><th>Check</th><th>Column</th><th>Message</th></tr>${rows.join('')}</table>`;
}

function appliedSection(applied: ValidationReport['applied']): string {
  const dropped = applied.droppedFeatures.length
    ? `<table><tr><th>Feature dropped</th><th>Reason</th></tr>${applied.droppedFeatures.map((d) => `<tr><td>${escapeHtml(d.column)}</td><td>${escapeHtml(d.reason, 600)}</td></tr>`).join('')}</table>`
    : '<p class="muted">No feature dropped.</p>';
  return `<h2>What the policies did</h2><p>Rows dropped: <strong>${formatNumber(applied.droppedRows)}</strong></p>${dropped}`;
}

function columnTable(columns: ColumnProfile[], rows: number, schemaType: Map<string, string>): string {
  const head =
    '<tr><th>Column</th><th>Type</th><th>Missing</th><th>Min</th><th>Mean</th><th>Max</th><th>Std</th><th>Distinct</th><th>Top categories</th></tr>';
  const body = columns.map((c, i) => {
    const n = c.numeric;
    const cat = c.categorical;
    const type = escapeHtml(schemaType.get(c.name) ?? c.storedAs);
    const nonNumeric = c.nonNumeric > 0 ? ` <span class="muted">(${formatNumber(c.nonNumeric)} not numbers)</span>` : '';
    const top = cat ? cat.top.slice(0, 3).map((t) => `${escapeHtml(t.value, 40)} <span class="muted">(${formatNumber(t.count)})</span>`).join(', ') : '';
    return (
      `<tr><td><a href="#col-${i}">${escapeHtml(c.name)}</a></td><td class="k">${type}${nonNumeric}</td><td class="n">${percent(c.missing, rows)}</td>` +
      `<td class="n">${formatNumber(n?.min)}</td><td class="n">${formatNumber(n?.mean)}</td><td class="n">${formatNumber(n?.max)}</td><td class="n">${formatNumber(n?.std)}</td>` +
      `<td class="n">${cat ? formatNumber(cat.distinct) : ''}</td><td>${top}</td></tr>`
    );
  });
  return `<table>${head}${body.join('')}</table>`;
}

function columnCard(c: ColumnProfile, index: number): string {
  const title = `<h3 id="col-${index}">${escapeHtml(c.name)}</h3>`;
  if (c.categorical && c.categorical.top.length > 0) {
    const bars = c.categorical.top.map((t) => ({ label: t.value, value: t.count }));
    if (c.categorical.otherCount > 0) bars.push({ label: '(other values)', value: c.categorical.otherCount });
    return `<div class="card">${title}${horizontalBars(bars, `Top categories of ${c.name}`)}</div>`;
  }
  if (c.numeric) return `<div class="card">${title}${histogramChart(c.numeric.histogram, `Histogram of ${c.name}`)}</div>`;
  return `<div class="card">${title}<p class="muted">No values.</p></div>`;
}

const CHART_WIDTH = 280;
const CHART_HEIGHT = 64;

/** Vertical bars, one per bin; a bin with any values is at least 1px tall. */
function histogramChart(h: Histogram, label: string): string {
  const largest = Math.max(...h.counts, 0);
  const width = CHART_WIDTH / Math.max(1, h.counts.length);
  const rects = h.counts.map((count, i) => {
    const height = largest > 0 && count > 0 ? Math.max(1, (count / largest) * CHART_HEIGHT) : 0;
    const range = `${formatNumber(h.edges[i])} – ${formatNumber(h.edges[i + 1])}`;
    return `<rect x="${(i * width).toFixed(1)}" y="${(CHART_HEIGHT - height).toFixed(1)}" width="${Math.max(1, width - 1).toFixed(1)}" height="${height.toFixed(1)}" fill="#4c78a8"><title>${range}: ${formatNumber(count)}</title></rect>`;
  });
  const mid = h.edges.length > 2 ? `<span>${formatNumber(h.edges[Math.floor((h.edges.length - 1) / 2)])}</span>` : '';
  return (
    `<svg width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(label)}">${rects.join('')}</svg>` +
    `<div class="axis"><span>${formatNumber(h.edges[0])}</span>${mid}<span>${formatNumber(h.edges[h.edges.length - 1])}</span></div>`
  );
}

const ROW_HEIGHT = 16;
const LABEL_WIDTH = 110;

/** Horizontal bars with their labels, for categories; at most MAX_BARS, the rest mentioned below. */
function horizontalBars(bars: { label: string; value: number }[], label: string): string {
  const shown = bars.slice(0, MAX_BARS);
  const largest = Math.max(...shown.map((b) => b.value), 0);
  const barSpace = CHART_WIDTH - LABEL_WIDTH - 50;
  const height = shown.length * ROW_HEIGHT;
  const rows = shown.map((b, i) => {
    const y = i * ROW_HEIGHT;
    const w = largest > 0 && b.value > 0 ? Math.max(1, (b.value / largest) * barSpace) : 0;
    return (
      `<text x="${LABEL_WIDTH - 4}" y="${y + 12}" text-anchor="end" font-size="11">${escapeHtml(b.label, MAX_LABEL)}</text>` +
      `<rect x="${LABEL_WIDTH}" y="${y + 2}" width="${w.toFixed(1)}" height="${ROW_HEIGHT - 4}" fill="#4c78a8"><title>${escapeHtml(b.label)}: ${formatNumber(b.value)}</title></rect>` +
      `<text x="${(LABEL_WIDTH + w + 4).toFixed(1)}" y="${y + 12}" font-size="11" fill="#5b6472">${formatNumber(b.value)}</text>`
    );
  });
  const more = bars.length > shown.length ? `<p class="muted">${formatNumber(bars.length - shown.length)} more not drawn.</p>` : '';
  return `<svg width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" role="img" aria-label="${escapeHtml(label)}">${rows.join('')}</svg>${more}`;
}

function skewSection(features: FeatureSkew[]): string {
  const order = (f: FeatureSkew) => ({ error: 0, warning: 1, ok: 2 })[f.level] ?? 3;
  const sorted = [...features].sort((a, b) => order(a) - order(b) || b.psi - a.psi);
  const table = sorted.map(
    (f) =>
      `<tr><td>${escapeHtml(f.column)}</td><td class="k">${escapeHtml(f.kind)}</td><td class="n">${formatNumber(f.psi)}</td><td class="n">${formatNumber(f.jensenShannon)}</td><td class="k ${levelClass(f.level)}">${escapeHtml(f.level)}</td></tr>`,
  );
  const legend = '<p class="legend muted"><span style="background:#9aa4b1"></span>reference<span style="background:#e45756"></span>this dataset</p>';
  const cards = sorted.map(
    (f) =>
      `<div class="card"><h3>${escapeHtml(f.column)} <span class="${levelClass(f.level)}">${escapeHtml(f.level)}</span></h3>` +
      `<p class="muted">PSI ${formatNumber(f.psi)} · JS ${formatNumber(f.jensenShannon)}</p>${pairedBars(f)}</div>`,
  );
  return (
    '<h2>Skew against the production model’s dataset</h2>' +
    (features.length === 0
      ? '<p class="muted">No feature in common to compare.</p>'
      : `<table><tr><th>Feature</th><th>Kind</th><th>PSI</th><th>JS distance</th><th>Level</th></tr>${table.join('')}</table>${legend}<div class="cards">${cards.join('')}</div>`)
  );
}

/** Reference and current shares side by side in each bin (at most MAX_BARS bins). */
export function pairedBars(f: Pick<FeatureSkew, 'column' | 'bins'>): string {
  const n = Math.min(f.bins.labels.length, MAX_BARS);
  const largest = Math.max(...f.bins.reference.slice(0, n), ...f.bins.current.slice(0, n), 0);
  const slot = CHART_WIDTH / Math.max(1, n);
  const bar = Math.max(1, slot / 2 - 1);
  const rects: string[] = [];
  for (let i = 0; i < n; i++) {
    const title = `<title>${escapeHtml(f.bins.labels[i], MAX_LABEL)}: reference ${percent(f.bins.reference[i], 1)}, this dataset ${percent(f.bins.current[i], 1)}</title>`;
    for (const [k, share, colour] of [
      [0, f.bins.reference[i], '#9aa4b1'],
      [1, f.bins.current[i], '#e45756'],
    ] as const) {
      const height = largest > 0 && share > 0 ? Math.max(1, (share / largest) * CHART_HEIGHT) : 0;
      rects.push(
        `<rect x="${(i * slot + k * (bar + 1)).toFixed(1)}" y="${(CHART_HEIGHT - height).toFixed(1)}" width="${bar.toFixed(1)}" height="${height.toFixed(1)}" fill="${colour}">${title}</rect>`,
      );
    }
  }
  const first = escapeHtml(f.bins.labels[0], MAX_LABEL);
  const last = n > 1 ? `<span>${escapeHtml(f.bins.labels[n - 1], MAX_LABEL)}</span>` : '';
  const more = f.bins.labels.length > n ? `<p class="muted">${formatNumber(f.bins.labels.length - n)} more bins not drawn.</p>` : '';
  return (
    `<svg width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(`Reference and current shares of ${f.column}`)}">${rects.join('')}</svg>` +
    `<div class="axis"><span>${first}</span>${last}</div>${more}`
  );
}
