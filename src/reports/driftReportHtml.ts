// The drift report as one self-contained HTML page (inline CSS and SVG, no script, nothing loaded), opened
// from the monitor run's memo through GET /reports/view. Built from the validation report's pieces; feature
// names and category values come from users' data, so every piece of data is escaped.
import type { FeatureDrift } from '../domain/driftPolicy';
import type { DriftReport } from './driftReport';
import { escapeHtml, formatNumber, pairedBars, row, STYLE } from './validationReportHtml';

const VERDICT_CLASS = { drifted: 'fail', ok: 'pass', 'not-enough-data': 'unknown' } as const;
const VERDICT_TEXT = { drifted: 'Drifted', ok: 'No drift', 'not-enough-data': 'Not enough data' } as const;
const EXTRA_STYLE = '.unknown{background:#5b6472}';

export function renderDriftReport(report: DriftReport): string {
  const { reference, current, drift } = report;
  const source =
    current.source === 'prediction-log'
      ? `prediction log, ${escapeHtml(current.windowStart)} to ${escapeHtml(current.windowEnd)}`
      : `dataset <code>${escapeHtml(current.datasetUri, 300)}</code>`;
  return [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>Drift report ${escapeHtml(report.modelName)}</title><style>${STYLE}${EXTRA_STYLE}</style></head><body><main>`,
    `<h1>Drift report: ${escapeHtml(report.modelName)}</h1>`,
    `<p><span class="verdict ${VERDICT_CLASS[report.verdict] ?? 'unknown'}">${VERDICT_TEXT[report.verdict] ?? escapeHtml(report.verdict)}</span> <span class="muted">${escapeHtml(report.summary, 600)}</span></p>`,
    '<h2>Compared</h2><table>',
    row('Reference', `version ${formatNumber(reference.version)}’s training data <code>${escapeHtml(reference.datasetSha256.slice(0, 12))}</code>, ${formatNumber(reference.rows)} rows`),
    row('Current', `${source}, ${formatNumber(current.rows)} rows`),
    row('Generated', escapeHtml(report.generatedAt)),
    drift ? row('Drifted features', `${formatNumber(drift.driftedFeatures.length)} of ${formatNumber(drift.features.length)} (share ${formatNumber(drift.share)}, dataset drift at ≥ ${formatNumber(report.policy.driftShare)})`) : '',
    '</table>',
    decaySection(report),
    drift ? featureTable(drift.features) : `<h2>Features</h2><p class="muted">Not judged: ${formatNumber(current.rows)} current rows, fewer than ${formatNumber(report.policy.minCurrentRows)} (minCurrentRows).</p>`,
    drift ? qualitySection(drift) : '',
    report.prediction ? `<h2>Prediction drift</h2>${featureTable([report.prediction], false)}` : '',
    '<h2>Distributions</h2><p class="legend muted"><span style="background:#9aa4b1"></span>reference<span style="background:#e45756"></span>current</p>',
    `<div class="cards">${[...(drift?.features ?? []), ...(report.prediction ? [report.prediction] : [])].map(card).join('')}</div>`,
    '<h2>Thresholds in force</h2>',
    `<table>${Object.entries(report.policy).map(([k, v]) => row(escapeHtml(k), typeof v === 'number' ? formatNumber(v) : escapeHtml(v))).join('')}</table>`,
    '</main></body></html>',
  ].join('');
}

function decaySection(report: DriftReport): string {
  const d = report.decay;
  const state = d.decayed === null ? '<span class="muted">not judged</span>' : d.decayed ? '<span class="error">decayed</span>' : '<span class="ok">no decay</span>';
  return (
    '<h2>Performance on ground truth</h2><table>' +
    row('Verdict', state) +
    row(`${escapeHtml(d.metric)} at evaluation`, formatNumber(d.evaluated)) +
    row(`${escapeHtml(d.metric)} on feedback`, formatNumber(d.current)) +
    row('Predictions with ground truth', formatNumber(d.feedbackRows)) +
    row('Why', escapeHtml(d.reason, 600)) +
    '</table>'
  );
}

function featureTable(features: FeatureDrift[], heading = true): string {
  const rows = features.map(
    (f) =>
      `<tr><td>${escapeHtml(f.feature)}</td><td class="k">${escapeHtml(f.kind)}</td><td class="k">${escapeHtml(f.test)}</td><td class="n">${formatNumber(f.statistic)}</td>` +
      `<td class="n">${formatNumber(f.pValue)}</td><td class="n">${formatNumber(f.threshold)}</td><td class="n">${formatNumber(f.psi)}</td>` +
      `<td class="k ${f.drifted ? 'error' : 'ok'}">${f.drifted ? 'drifted' : 'ok'}</td></tr>`,
  );
  return `${heading ? '<h2>Features</h2>' : ''}<table><tr><th>Feature</th><th>Kind</th><th>Test</th><th>Statistic</th><th>p-value</th><th>Threshold</th><th>PSI</th><th>Verdict</th></tr>${rows.join('')}</table>`;
}

/** Data quality per feature (missing rates, out-of-domain values, unseen categories) and the engine's findings. */
function qualitySection(drift: NonNullable<DriftReport['drift']>): string {
  const share = (x: number | null) => (x === null ? '' : `${formatNumber(100 * x)}%`);
  const rows = drift.features.map(
    ({ feature, quality: q }) =>
      `<tr><td>${escapeHtml(feature)}</td><td class="n">${share(q.missingShare.reference)}</td><td class="n">${share(q.missingShare.current)}</td>` +
      `<td class="n">${share(q.outOfDomainShare)}</td><td class="n">${share(q.unseenCategoryShare)}</td><td>${q.unseenCategories.map((c) => escapeHtml(c, 40)).join(', ')}</td></tr>`,
  );
  const findings = drift.findings.length ? `<ul>${drift.findings.map((x) => `<li>${escapeHtml(x, 600)}</li>`).join('')}</ul>` : '';
  return (
    `<h2>Data quality</h2>${findings}<table><tr><th>Feature</th><th>Missing (reference)</th><th>Missing (current)</th>` +
    `<th>Outside the reference’s range</th><th>Unseen categories</th><th>Unseen, e.g.</th></tr>${rows.join('')}</table>`
  );
}

function card(f: FeatureDrift): string {
  return (
    `<div class="card"><h3>${escapeHtml(f.feature)} <span class="${f.drifted ? 'error' : 'ok'}">${f.drifted ? 'drifted' : 'ok'}</span></h3>` +
    `<p class="muted">${escapeHtml(f.test)} ${formatNumber(f.statistic)} · PSI ${formatNumber(f.psi)}</p>` +
    pairedBars({ column: f.feature, bins: { labels: binLabels(f), reference: shares(f.histogram.reference), current: shares(f.histogram.current) } }) +
    '</div>'
  );
}

/** Counts or shares as shares summing to 1, as the charts take them. */
function shares(xs: number[]): number[] {
  const total = xs.reduce((sum, x) => sum + x, 0);
  return total > 0 ? xs.map((x) => x / total) : xs.map(() => 0);
}

/** One label per bar: a numeric bin's range from its edges, or the category. */
function binLabels(f: FeatureDrift): string[] {
  const bins = f.histogram.bins;
  if (f.kind === 'categorical' || typeof bins[0] === 'string') return bins.map(String);
  const edges = bins as number[];
  return edges.slice(0, -1).map((lo, i) => `${formatNumber(lo)} – ${formatNumber(edges[i + 1])}`);
}
