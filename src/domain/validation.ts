import { quote, quoteList, shortList } from './quote';
import { columnIndex, inferSchema, isMissing, parseNumber, type ColumnSchema, type DatasetSchema, type RawTable } from './schema';

export interface ValidationThresholds {
  minRows: number;
  /** Missing-value share of a feature above which the dataset is refused. */
  maxMissingRate: number;
  /** Missing-value share of a feature above which the approver is warned. */
  warnMissingRate: number;
}

export const DEFAULT_THRESHOLDS: ValidationThresholds = { minRows: 10, maxMissingRate: 0.5, warnMissingRate: 0.05 };

export interface Finding {
  severity: 'error' | 'warning';
  check: string;
  column?: string;
  message: string;
}

export interface ColumnProfile {
  name: string;
  type: ColumnSchema['type'];
  missing: number;
  missingRate: number;
  distinct: number;
  min?: number;
  max?: number;
  mean?: number;
}

export interface ValidationReport {
  rowCount: number;
  schema: DatasetSchema;
  profiles: ColumnProfile[];
  findings: Finding[];
  passed: boolean;
}

export interface ValidationRequest {
  target: string;
  features: string[];
  /** The schema of the model's previous accepted dataset, if any: types must not change. */
  reference?: DatasetSchema | null;
  thresholds?: Partial<ValidationThresholds>;
}

const EXAMPLES = 5;

/** Rows are numbered from 1 for the first data row (line 2 of a file with a header). */
function examples(rows: { row: number; value: string }[]): string {
  const shown = rows.slice(0, EXAMPLES).map((r) => `row ${r.row + 1}: ${quote(r.value)}`);
  return rows.length > EXAMPLES ? `${shown.join(', ')}, ...` : shown.join(', ');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

/** Checks a raw dataset against what the lifecycle needs; every finding names its column and rows. */
export function validateDataset(raw: RawTable, request: ValidationRequest): ValidationReport {
  const thresholds = { ...DEFAULT_THRESHOLDS, ...request.thresholds };
  const findings: Finding[] = [];
  const error = (check: string, message: string, column?: string) => findings.push({ severity: 'error', check, column, message });
  const warn = (check: string, message: string, column?: string) => findings.push({ severity: 'warning', check, column, message });

  const inferred = inferSchema(raw);
  // The reference schema wins for the columns it knows: a column must not change type between datasets.
  const schema: DatasetSchema = {
    columns: inferred.columns.map((c) => {
      const ref = request.reference?.columns.find((r) => r.name === c.name);
      return ref ? { ...c, type: ref.type } : c;
    }),
  };

  const duplicates = raw.header.filter((h, i) => raw.header.indexOf(h) !== i);
  for (const name of new Set(duplicates)) error('duplicate-column', `column ${quote(name)} appears more than once in the header`, name);
  if (raw.rowCount < thresholds.minRows) {
    error('row-count', `the dataset has ${raw.rowCount} data rows; at least ${thresholds.minRows} are needed`);
  }

  const used = [request.target, ...request.features];
  const absent = used.filter((name) => columnIndex(raw, name) < 0);
  for (const name of absent) {
    const role = name === request.target ? 'target column' : 'feature column';
    error('missing-column', `${role} "${name}" is not in the file (columns: ${shortList(raw.header)})`, name);
  }

  const profiles: ColumnProfile[] = [];
  for (const name of used.filter((n) => !absent.includes(n))) {
    const values = raw.columns[columnIndex(raw, name)];
    const type = schema.columns.find((c) => c.name === name)!.type;
    const inferredType = inferred.columns.find((c) => c.name === name)!.type;
    const missingRows: number[] = [];
    const notNumbers: { row: number; value: string }[] = [];
    const distinct = new Set<string>();
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    values.forEach((v, row) => {
      if (isMissing(v)) return void missingRows.push(row);
      distinct.add(v.trim());
      if (type !== 'numeric') return;
      const x = parseNumber(v);
      if (x === undefined) return void notNumbers.push({ row, value: v });
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    });
    const present = values.length - missingRows.length;
    const missingRate = values.length ? missingRows.length / values.length : 0;
    const numericCount = present - notNumbers.length;
    profiles.push({
      name,
      type,
      missing: missingRows.length,
      missingRate,
      distinct: distinct.size,
      ...(type === 'numeric' && numericCount > 0 ? { min, max, mean: sum / numericCount } : {}),
    });

    if (request.reference && inferredType !== type && notNumbers.length === present) {
      error('type-changed', `column "${name}" was ${type} in the model's previous dataset but holds no numbers now (${examples(notNumbers)})`, name);
    } else if (notNumbers.length > 0) {
      error(
        'type-mismatch',
        `column "${name}": ${notNumbers.length} value(s) are not numbers in a numeric column (${examples(notNumbers)})`,
        name,
      );
    }

    if (name === request.target) {
      if (type !== 'numeric') {
        error('target-type', `target column "${name}" must be numeric for regression; it holds text such as ${quoteList([...distinct], 3)}`, name);
      }
      if (missingRows.length > 0) {
        error('target-missing', `target column "${name}": ${missingRows.length} row(s) have no value (${examples(missingRows.map((row) => ({ row, value: values[row] })))})`, name);
      }
      if (type === 'numeric' && numericCount > 1 && min === max) {
        error('target-constant', `target column "${name}" is constant (${min}): there is nothing to learn`, name);
      }
      continue;
    }

    if (missingRate > thresholds.maxMissingRate) {
      error('missing-rate', `feature "${name}": ${percent(missingRate)} of values are missing (limit ${percent(thresholds.maxMissingRate)})`, name);
    } else if (missingRate > thresholds.warnMissingRate) {
      warn('missing-rate', `feature "${name}": ${percent(missingRate)} of values are missing; they will be imputed`, name);
    }
    if (present === 0) error('empty-column', `feature "${name}" has no values at all`, name);
    if (type === 'categorical' && distinct.size > 100 && distinct.size > 0.5 * present) {
      warn('high-cardinality', `feature "${name}" has ${distinct.size} distinct values in ${present} rows: free text or an identifier?`, name);
    }
  }

  return { rowCount: raw.rowCount, schema, profiles, findings, passed: !findings.some((f) => f.severity === 'error') };
}
