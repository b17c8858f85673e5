import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { DatasetSchema } from '../domain/schema';
import { formatZodError } from './lifecycle';

/**
 * A schema file (data.schemaUri), JSON or YAML:
 *   columns:
 *     price: { type: numeric, min: 0, max: 10000000 }
 *     fuel:  { type: categorical, values: [diesel, petrol, electric] }
 */
const NumericColumn = z.object({ type: z.literal('numeric'), min: z.number().optional(), max: z.number().optional(), nullable: z.boolean().default(true) }).strict();
const CategoricalColumn = z
  .object({ type: z.literal('categorical'), values: z.array(z.string().max(256)).min(1).max(10_000).optional(), nullable: z.boolean().default(true) })
  .strict();
export const DatasetSchemaFile = z
  .object({
    columns: z
      .record(z.string().min(1).max(256), z.discriminatedUnion('type', [NumericColumn, CategoricalColumn]))
      .refine((columns) => Object.keys(columns).length > 0, 'must name at least one column')
      .refine((columns) => Object.keys(columns).length <= 10_000, 'must name at most 10,000 columns'),
  })
  .strict()
  .superRefine((file, ctx) => {
    for (const [name, column] of Object.entries(file.columns)) {
      if (column.type === 'numeric' && column.min !== undefined && column.max !== undefined && column.min > column.max) {
        ctx.addIssue({ code: 'custom', path: ['columns', name, 'min'], message: `must not exceed max (${column.max})` });
      }
    }
  });

export class SchemaFileError extends Error {
  override name = 'SchemaFileError';
}

/** Parses a schema file's text (JSON is YAML too); errors name the field and the problem. */
export function parseSchemaFile(text: string): DatasetSchema {
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    const where = (err as { linePos?: { line: number }[] }).linePos?.[0]?.line;
    throw new SchemaFileError(`the schema file does not parse as JSON or YAML${where ? ` (line ${where})` : ''}`);
  }
  const parsed = DatasetSchemaFile.safeParse(raw);
  if (!parsed.success) throw new SchemaFileError(`the schema file is invalid: ${formatZodError(parsed.error)}`);
  return {
    columns: Object.entries(parsed.data.columns).map(([name, c]) =>
      c.type === 'numeric' ? { name, type: 'numeric', nullable: c.nullable, min: c.min, max: c.max } : { name, type: 'categorical', nullable: c.nullable, values: c.values },
    ),
  };
}
