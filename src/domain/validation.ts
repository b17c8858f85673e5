// Judges a dataset version for one lifecycle from its profile: every finding names its column, its rows
// and the setting that decides it. Policies turn some dead ends into warnings: rows without a target
// are dropped, a failing feature may be dropped.
import type { DataPolicy } from '../schemas/lifecycle';
import { MAX_SAFE_MAGNITUDE, type ColumnProfile, type DatasetProfile } from './profile';
import { quote, quoteList, shortList } from './quote';
import type { FeatureSkew, Finding } from './report';
import type { ColumnSchema, ColumnType, DatasetSchema, SchemaSource } from './schema';

export type ValidationPolicy = Omit<DataPolicy, 'format' | 'encoding' | 'schemaUri'>;

/** Values outside a schema's range, and categories outside its domain, counted on the dataset by the caller. */
export interface SchemaChecks {
  outOfRange: Record<string, { count: number; examples: number[] }>;
  unseen: Record<string, { count: number; examples: string[] }>;
}

export interface ValidationRequest {
  target: string;
  features: string[];
  policy: ValidationPolicy;
  /** The model's schema and where it came from; null on its first dataset. */
  reference: { schema: DatasetSchema; source: SchemaSource } | null;
  checks?: SchemaChecks;
  skew?: FeatureSkew[] | null;
}

export interface ValidationOutcome {
  findings: Finding[];
  /** Types of the columns the model uses. */
  schema: DatasetSchema;
  /** The features training uses: the requested ones less those dropped by policy. */
  features: string[];
  droppedFeatures: { column: string; reason: string }[];
  /** Rows without a target, dropped by policy. */
  droppedRows: number;
  usableRows: number;
  passed: boolean;
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const rows = (list: number[], total: number) => (list.length ? ` (rows ${list.join(', ')}${total > list.length ? ', ...' : ''})` : '');

/** numeric when the stored column is all numbers, or when enough of its text is; the model's schema wins. */
export function columnType(column: ColumnProfile, numericShare: number, reference?: ColumnSchema): ColumnType {
  if (reference) return reference.type;
  if (column.storedAs === 'numeric') return 'numeric';
  const present = (column.numeric?.count ?? 0) + (column.numeric?.huge ?? 0) + column.nonNumeric;
  return present > 0 && column.numeric && column.numeric.count + column.numeric.huge >= numericShare * present ? 'numeric' : 'categorical';
}

/**
 * The schema inferred from a profile: types, nullability, the observed range, and the categories when
 * all of them fit in the profile (a column with more, or with none, is left without a domain).
 */
export function inferSchema(profile: DatasetProfile, numericShare: number): DatasetSchema {
  return {
    columns: profile.columns.map((c): ColumnSchema => {
      const type = columnType(c, numericShare);
      const base = { name: c.name, type, nullable: c.missing > 0 };
      if (type === 'numeric') return c.numeric ? { ...base, min: c.numeric.min, max: c.numeric.max } : base;
      // The domain is known when every category is in the profile's top list (none counted as "other").
      const all = c.categorical && c.categorical.otherCount === 0 && c.categorical.top.length > 0;
      return all ? { ...base, values: c.categorical!.top.map((t) => t.value).sort() } : base;
    }),
  };
}

export function validateProfile(profile: DatasetProfile, request: ValidationRequest): ValidationOutcome {
  const p = request.policy;
  const findings: Finding[] = [];
  const error = (check: string, message: string, column?: string) => findings.push({ severity: 'error', check, column, message });
  const warn = (check: string, message: string, column?: string) => findings.push({ severity: 'warning', check, column, message });
  const droppedFeatures: { column: string; reason: string }[] = [];
  /** A feature that fails a check: an error, or dropped when the policy says so. */
  const badFeature = (check: string, column: string, reason: string) => {
    if (p.badFeature === 'drop') {
      if (!droppedFeatures.some((d) => d.column === column)) droppedFeatures.push({ column, reason });
      warn(check, `feature "${column}" is dropped (data.badFeature = "drop"): ${reason}`, column);
    } else {
      error(check, `feature "${column}": ${reason}`, column);
    }
  };

  const byName = new Map(profile.columns.map((c) => [c.name, c]));
  const refColumns = new Map(request.reference?.schema.columns.map((c) => [c.name, c]));
  const pinned = request.reference?.source === 'file';
  const types = new Map(profile.columns.map((c) => [c.name, columnType(c, p.numericShare, refColumns.get(c.name))]));

  const used = [request.target, ...request.features];
  const absent = used.filter((name) => !byName.has(name));
  for (const name of absent) {
    const role = name === request.target ? 'target column' : 'feature column';
    error('missing-column', `${role} "${name}" is not in the file (columns: ${shortList(profile.columns.map((c) => c.name))})`, name);
  }

  // The target first: its missing rows decide how many rows the rest of the checks are about.
  let droppedRows = 0;
  const target = byName.get(request.target);
  if (target) {
    const name = request.target;
    const present = profile.rows - target.missing;
    if (present === 0 && profile.rows > 0) error('target-missing', `target column "${name}" has no values at all`, name);
    else if (types.get(name) !== 'numeric' && present > 0) {
      const examples = target.categorical?.top.map((t) => t.value) ?? [];
      error('target-type', `target column "${name}" must be numeric for regression; it holds text such as ${quoteList(examples, 3)}`, name);
    } else if (target.nonNumeric > 0) {
      error('type-mismatch', `target column "${name}": ${target.nonNumeric} value(s) are not numbers (${examples(target)})`, name);
    }
    if (target.numeric && target.numeric.huge > 0) {
      error('magnitude', `target column "${name}": ${target.numeric.huge} value(s) are infinite or beyond ±${MAX_SAFE_MAGNITUDE} and would overflow training`, name);
    }
    if (target.missing > 0 && present > 0) {
      const share = target.missing / profile.rows;
      const which = `${target.missing} row(s) have no value${rows(target.examples.missingRows, target.missing)}`;
      if (p.missingTarget === 'error') error('target-missing', `target column "${name}": ${which} (data.missingTarget = "error")`, name);
      else if (share > p.maxMissingTargetShare) {
        error('target-missing', `target column "${name}": ${which}, ${percent(share)} of the rows (limit ${percent(p.maxMissingTargetShare)}, data.maxMissingTargetShare)`, name);
      } else {
        droppedRows = target.missing;
        warn('target-missing', `target column "${name}": ${which}; they are dropped (data.missingTarget = "drop")`, name);
      }
    }
    if (target.numeric && target.numeric.count > 1 && target.numeric.min === target.numeric.max) {
      error('target-constant', `target column "${name}" is constant (${target.numeric.min}): there is nothing to learn`, name);
    }
  }
  const usableRows = profile.rows - droppedRows;
  if (usableRows < p.minRows) {
    error('row-count', `the dataset has ${usableRows} usable data row(s); at least ${p.minRows} are needed (data.minRows)`);
  }

  for (const name of request.features.filter((n) => byName.has(n))) {
    const c = byName.get(name)!;
    const type = types.get(name)!;
    const present = profile.rows - c.missing;
    const ref = refColumns.get(name);
    const missingShare = profile.rows ? c.missing / profile.rows : 0;

    if (ref?.type === 'numeric' && !c.numeric && present > 0) {
      error('type-changed', `column "${name}" is numeric in the model's schema but holds no numbers now (${examples(c)})`, name);
      continue;
    }
    if (present === 0 && profile.rows > 0) badFeature('empty-column', name, 'it has no values at all');
    else if (type === 'numeric' && c.nonNumeric > 0) badFeature('type-mismatch', name, `${c.nonNumeric} value(s) are not numbers in a numeric column (${examples(c)})`);
    else if (missingShare > p.maxMissingShare) {
      badFeature('missing-rate', name, `${percent(missingShare)} of values are missing (limit ${percent(p.maxMissingShare)}, data.maxMissingShare)`);
    } else if (missingShare > p.warnMissingShare) {
      warn('missing-rate', `feature "${name}": ${percent(missingShare)} of values are missing; they will be imputed`, name);
    }
    if (type === 'numeric' && c.numeric && c.numeric.huge > 0) {
      badFeature('magnitude', name, `${c.numeric.huge} value(s) are infinite or beyond ±${MAX_SAFE_MAGNITUDE} and would overflow training`);
    }
    const distinct = c.categorical?.distinct ?? 0;
    if (type === 'categorical' && distinct > p.maxDistinctCategories && distinct > 0.5 * present) {
      warn('high-cardinality', `feature "${name}" has about ${distinct} distinct values in ${present} rows: free text or an identifier? (data.maxDistinctCategories)`, name);
    }
    const outOfRange = request.checks?.outOfRange[name];
    if (outOfRange && outOfRange.count > 0 && ref) {
      const message = `feature "${name}": ${outOfRange.count} value(s) outside the schema's range [${ref.min}, ${ref.max}] (such as ${outOfRange.examples.slice(0, 3).join(', ')})`;
      if (pinned) error('out-of-range', message, name);
      else warn('out-of-range', `${message}; the range was inferred from the model's first dataset`, name);
    }
    const unseen = request.checks?.unseen[name];
    if (unseen && unseen.count > 0) {
      const message = `feature "${name}": ${unseen.count} value(s) in categories the schema does not know (${quoteList(unseen.examples, 5)})`;
      if (pinned) error('unseen-category', message, name);
      else warn('unseen-category', `${message}; they are encoded as unknown`, name);
    }
  }

  for (const skew of request.skew ?? []) {
    if (skew.level === 'ok') continue;
    const message = `feature "${skew.column}" is skewed against the production model's dataset: PSI ${skew.psi.toFixed(3)}, Jensen–Shannon ${skew.jensenShannon.toFixed(3)}`;
    if (skew.level === 'error') error('skew', message, skew.column);
    else warn('skew', message, skew.column);
  }

  const features = request.features.filter((f) => byName.has(f) && !droppedFeatures.some((d) => d.column === f));
  if (request.features.length > 0 && features.length === 0 && absent.length === 0) error('no-features', 'every feature was dropped: nothing is left to train on');
  if (features.length > 0 && usableRows > 0 && features.length >= usableRows) {
    warn('wide-data', `${features.length} features for ${usableRows} rows: features outnumber rows, so the fit leans on regularisation (trainer.params.alpha)`);
  }
  const schema: DatasetSchema = {
    columns: used
      .filter((n) => byName.has(n) && !droppedFeatures.some((d) => d.column === n))
      .map((n) => ({ name: n, type: types.get(n)!, nullable: byName.get(n)!.missing > 0 })),
  };
  return { findings, schema, features, droppedFeatures, droppedRows, usableRows, passed: !findings.some((f) => f.severity === 'error') };
}

function examples(c: ColumnProfile): string {
  const shown = c.examples.nonNumeric.map((e) => `row ${e.row}: ${quote(e.value)}`);
  return c.nonNumeric > shown.length ? `${shown.join(', ')}, ...` : shown.join(', ');
}
