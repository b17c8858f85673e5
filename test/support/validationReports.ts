import { featureSkew, numericBins, categoricalBins } from '../../src/domain/drift';
import { histogramEdges, type ColumnProfile } from '../../src/domain/profile';
import type { ValidationReport } from '../../src/domain/report';

/** Names and values a user's file could hold, meant to break out of HTML, attributes, CSS or SVG. */
export const HOSTILE = {
  script: '<script>alert("x")</script>',
  attribute: '"><img src=x onerror=alert(1)>',
  quotes: `it's "quoted" & <b>bold</b>`,
  style: '</style><style>body{display:none}</style>',
  comment: '<!-- --><svg onload=alert(1)>',
};

function numericColumn(name: string, i: number, rows: number): ColumnProfile {
  const [min, max] = [-i, 10 + i];
  const edges = histogramEdges(min, max);
  // A bump in the middle, with one empty bin and one bin of a single value.
  const counts = edges.slice(1).map((_, b) => (b === 3 ? 0 : b === 17 ? 1 : Math.round(100 * Math.exp(-((b - 10) ** 2) / 18))));
  const count = counts.reduce((s, c) => s + c, 0);
  return {
    name,
    storedAs: 'numeric',
    missing: rows - count,
    nonNumeric: 0,
    numeric: { count, min, max, mean: (min + max) / 2, m2: count * 4, std: 2, quantiles: [0, 1, 2, 3, 4, 5, 6], histogram: { edges, counts }, huge: 0 },
    categorical: null,
    examples: { missingRows: [], nonNumeric: [] },
  };
}

function categoricalColumn(name: string, values: string[], rows: number): ColumnProfile {
  const top = values.map((value, k) => ({ value, count: 40 - k }));
  const present = top.reduce((s, t) => s + t.count, 0) + 7;
  return {
    name,
    storedAs: 'text',
    missing: rows - present,
    nonNumeric: present,
    numeric: null,
    categorical: { distinct: values.length + 3, top, otherCount: 7 },
    examples: { missingRows: [1, 2], nonNumeric: [] },
  };
}

/**
 * A report with `columns` columns (numeric and categorical in turn), hostile names and category values
 * among them, findings of both severities and, with `skew`, a comparison for the first few features.
 */
export function sampleReport({ columns = 8, skew = true, longText = 'x'.repeat(10_000) } = {}): ValidationReport {
  const rows = 1000;
  const names = [HOSTILE.script, HOSTILE.attribute, HOSTILE.quotes, longText, HOSTILE.style, HOSTILE.comment];
  const profiles = Array.from({ length: columns }, (_, i) => {
    const name = names[i] ?? `feature_${i}`;
    return i % 2 === 0 ? numericColumn(name, i, rows) : categoricalColumn(name, [HOSTILE.script, HOSTILE.attribute, 'plain', longText, `v${i}`], rows);
  });
  const features = profiles.slice(0, 6).map((p) => {
    if (p.numeric) {
      const h = p.numeric.histogram;
      return featureSkew(p.name, 'numeric', numericBins(h, h.counts.map((c, b) => c + (b < 10 ? 30 : 0))));
    }
    const top = p.categorical!.top;
    return featureSkew(p.name, 'categorical', categoricalBins(p.categorical!, top.map((t, k) => ({ value: t.value, count: k === 0 ? 5 : t.count })), 200));
  });
  return {
    dataset: { sha256: 'ab'.repeat(32), sourceUri: `file:///data/${HOSTILE.quotes}.csv`, rows },
    usableRows: rows - 12,
    schema: { columns: profiles.map((p) => ({ name: p.name, type: p.storedAs === 'numeric' ? 'numeric' : 'categorical', nullable: true })) },
    profile: { version: 1, rows, columns: profiles },
    findings: [
      { severity: 'warning', check: 'missing-rate', column: HOSTILE.attribute, message: `12% missing in ${HOSTILE.script}` },
      { severity: 'error', check: 'target-missing', column: 'y', message: 'the target is missing in 12 rows' },
      { severity: 'warning', check: 'skew', message: 'PSI above 0.1 <b>' },
    ],
    skew: skew ? { referenceSha256: 'cd'.repeat(32), features } : null,
    applied: { droppedRows: 12, droppedFeatures: [{ column: HOSTILE.comment, reason: 'constant' }] },
    thresholds: { maxMissingRate: 0.2, skewWarningPsi: 0.1, [HOSTILE.script]: HOSTILE.attribute },
    passed: false,
  };
}
