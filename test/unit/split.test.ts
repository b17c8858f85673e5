import { describe, it, expect } from 'vitest';
import { holdoutSplit } from '../../src/domain/split';

// Independent reference of mulberry32 + Fisher-Yates written with BigInt arithmetic
// (no Math.imul, no >>>), so a bug in the 32-bit tricks of split.ts would show up here.
function referenceSplit(n: number, seed: number, holdoutSize: number): { train: number[]; holdout: number[] } {
  const M = 1n << 32n;
  const mul = (a: bigint, b: bigint) => (a * b) % M;
  const shr = (a: bigint, s: bigint) => a >> s;
  let state = BigInt(seed) % M;
  if (state < 0n) state += M;
  const next = () => {
    state = (state + 0x6d2b79f5n) % M;
    let t = state;
    t = mul(t ^ shr(t, 15n), t | 1n);
    t = t ^ ((t + mul(t ^ shr(t, 7n), t | 61n)) % M);
    return Number(t ^ shr(t, 14n)) / 2 ** 32;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const asc = (a: number, b: number) => a - b;
  return { holdout: order.slice(0, holdoutSize).sort(asc), train: order.slice(holdoutSize).sort(asc) };
}

describe('holdoutSplit', () => {
  it('matches an independent BigInt implementation of the seeded shuffle', () => {
    for (const [n, seed, fraction] of [
      [10, 1, 0.3],
      [97, 42, 0.2],
      [1000, 123456789, 0.25],
      [50, 4294967295, 0.5],
      [33, -7, 0.1],
    ] as const) {
      const { train, holdout } = holdoutSplit(n, { seed, holdoutFraction: fraction });
      const ref = referenceSplit(n, seed, Math.round(n * fraction));
      expect(Array.from(holdout)).toEqual(ref.holdout);
      expect(Array.from(train)).toEqual(ref.train);
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    const a = holdoutSplit(200, { seed: 7, holdoutFraction: 0.2 });
    const b = holdoutSplit(200, { seed: 7, holdoutFraction: 0.2 });
    const c = holdoutSplit(200, { seed: 8, holdoutFraction: 0.2 });
    expect(Array.from(a.holdout)).toEqual(Array.from(b.holdout));
    expect(Array.from(a.holdout)).not.toEqual(Array.from(c.holdout));
  });

  it('partitions all rows into two sorted, disjoint sides of the requested size', () => {
    const n = 101;
    const { train, holdout } = holdoutSplit(n, { seed: 3, holdoutFraction: 0.3 });
    expect(holdout.length).toBe(30); // round(30.3)
    expect(train.length).toBe(71);
    const all = [...train, ...holdout].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    for (const side of [train, holdout]) {
      for (let i = 1; i < side.length; i++) expect(side[i]).toBeGreaterThan(side[i - 1]);
    }
  });

  it('keeps both sides non-empty for tiny tables and extreme fractions', () => {
    expect(holdoutSplit(2, { seed: 1, holdoutFraction: 0.01 }).holdout.length).toBe(1);
    expect(holdoutSplit(2, { seed: 1, holdoutFraction: 0.99 }).train.length).toBe(1);
    const s = holdoutSplit(10, { seed: 1, holdoutFraction: 0.99 });
    expect([s.train.length, s.holdout.length]).toEqual([1, 9]);
  });

  it('rejects tables that cannot be split and invalid options', () => {
    expect(() => holdoutSplit(1, { seed: 1, holdoutFraction: 0.5 })).toThrow(/at least 2 rows/);
    expect(() => holdoutSplit(0, { seed: 1, holdoutFraction: 0.5 })).toThrow(/at least 2 rows/);
    expect(() => holdoutSplit(10, { seed: 1, holdoutFraction: 0 })).toThrow(/holdoutFraction/);
    expect(() => holdoutSplit(10, { seed: 1, holdoutFraction: 1 })).toThrow(/holdoutFraction/);
    expect(() => holdoutSplit(10, { seed: 1.5, holdoutFraction: 0.2 })).toThrow(/seed/);
  });
});
