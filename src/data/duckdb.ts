// DuckDB is the dataset engine: it reads CSV (plain or gzip) and Parquet, writes the typed Parquet form of
// each dataset version and computes its profile. Chosen by measurement (README, "Data engine"): it runs
// on its own threads, so the activity's event loop keeps heartbeating, and it streams with a memory cap.
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

export interface EngineOptions {
  /** DuckDB's own memory cap, e.g. "256MB": beyond it, sorts and aggregates spill to `spillDir`. */
  memoryLimit?: string;
  threads?: number;
  spillDir?: string;
}

/** A column or alias name, quoted for SQL: names come from users' files and may hold anything. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A string literal for SQL (file paths, tokens); never user text spliced raw into a statement. */
export function literal(text: string): string {
  if (text.includes('\0')) throw new Error('a NUL byte cannot appear in a SQL literal');
  return `'${text.replaceAll("'", "''")}'`;
}

export function literalList(items: readonly string[]): string {
  return `[${items.map(literal).join(', ')}]`;
}

/**
 * Runs `work` on a fresh in-memory DuckDB, closed afterwards whatever happens. One database per task keeps
 * tasks independent (no shared state between runs), and the cost of opening one is about a millisecond.
 */
export async function withDuckDB<T>(options: EngineOptions, work: (db: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '192MB',
    threads: String(options.threads ?? Math.max(1, Math.min(2, os.availableParallelism()))),
    temp_directory: options.spillDir ?? path.join(os.tmpdir(), 'lifecycle-duckdb-spill'),
    // Rows keep their file order: row numbers in messages and the seeded holdout split depend on it.
    preserve_insertion_order: 'true',
    // Extensions would be downloaded at run time; everything needed is built in.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const connection = await instance.connect();
  try {
    return await work(connection);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** The rows of a query as plain objects (numbers as numbers, BIGINT counts converted). */
export async function queryRows(db: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const reader = await db.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])));
}
