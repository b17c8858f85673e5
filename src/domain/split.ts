// Deterministic train/holdout split. Uses its own PRNG (mulberry32: 32-bit integer
// arithmetic only) so the same seed yields the same split on every machine and Node version.

/** mulberry32 PRNG: returns floats in [0, 1) built from 32-bit integer state. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Splits row indices 0..rowCount-1 into train and holdout by a seeded Fisher-Yates shuffle.
 * Holdout size is round(rowCount * holdoutFraction), clamped to [1, rowCount - 1] so both
 * sides are non-empty. Both index arrays are sorted ascending.
 * The seed must be an integer; it is reduced modulo 2^32.
 */
export function holdoutSplit(
  rowCount: number,
  opts: { seed: number; holdoutFraction: number },
): { train: Uint32Array; holdout: Uint32Array } {
  if (!Number.isInteger(rowCount) || rowCount < 2) {
    throw new Error(`holdoutSplit: need at least 2 rows to split, got ${rowCount}`);
  }
  const { seed, holdoutFraction } = opts;
  if (!Number.isInteger(seed)) throw new Error(`holdoutSplit: seed must be an integer, got ${seed}`);
  if (!(holdoutFraction > 0 && holdoutFraction < 1)) {
    throw new Error(`holdoutSplit: holdoutFraction must be in (0, 1), got ${holdoutFraction}`);
  }
  const holdoutSize = Math.min(rowCount - 1, Math.max(1, Math.round(rowCount * holdoutFraction)));

  const order = new Uint32Array(rowCount);
  for (let i = 0; i < rowCount; i++) order[i] = i;
  const rand = mulberry32(seed);
  for (let i = rowCount - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  // The first holdoutSize shuffled indices form the holdout set.
  const holdout = order.slice(0, holdoutSize).sort();
  const train = order.slice(holdoutSize).sort();
  return { train, holdout };
}
