// test/fixtures/evidently-drift.json (scripts/fixtures/evidently_drift.py): small seeded datasets, their
// values included, with Evidently 0.7 DataDriftPreset's per-column test, score and verdict.
import { readFileSync } from 'node:fs';
import type { DriftTest } from '../../src/domain/driftPolicy';

export type FixtureValue = number | string | null;

export interface EvidentlyFixture {
  evidentlyVersion: string;
  datasets: {
    name: string;
    numerical: string[];
    categorical: string[];
    reference: Record<string, FixtureValue[]>;
    current: Record<string, FixtureValue[]>;
    evidently: { columns: Record<string, { test: DriftTest; score: number; threshold: number; drifted: boolean }>; drifted: string[]; share: number; datasetDrift: boolean };
  }[];
}

export const evidentlyFixture: EvidentlyFixture = JSON.parse(readFileSync(new URL('../fixtures/evidently-drift.json', import.meta.url), 'utf8'));
