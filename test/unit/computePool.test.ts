import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { ComputeAborted, ComputeError, ComputePool, defaultComputeThreads } from '../../src/compute/pool';
import { fitRidge } from '../../src/domain/ridge';
import type { Table } from '../../src/domain/table';

/**
 * A table whose ridge fit takes a good fraction of a second on one core: many numeric features (typed
 * arrays, cheap to hand to a thread) and one categorical.
 */
function heavyTable(rows: number): Table {
  const columns: Table['columns'] = {};
  const y = new Float64Array(rows);
  for (let f = 0; f < 10; f++) {
    const x = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      x[i] = ((i + 1) * (7919 + f * 104729)) % (997 + f);
      y[i] += (f + 1) * x[i];
    }
    columns[`x${f}`] = { kind: 'numeric', values: x };
  }
  const c: string[] = [];
  for (let i = 0; i < rows; i++) {
    c.push(`c${i % 12}`);
    y[i] += i % 12;
  }
  columns.c = { kind: 'categorical', values: c };
  columns.y = { kind: 'numeric', values: y };
  return { rowCount: rows, columns };
}
const FEATURES = [...Array.from({ length: 10 }, (_, f) => `x${f}`), 'c'];

/** The longest gap (ms) between ticks of a 5 ms timer while `work` runs: how long the event loop stalled. */
async function worstStall(work: () => Promise<unknown>): Promise<{ stallMs: number; wallMs: number }> {
  let last = performance.now();
  let stallMs = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    stallMs = Math.max(stallMs, now - last);
    last = now;
  }, 5);
  await new Promise((r) => setTimeout(r, 20));
  const start = performance.now();
  await new Promise((r) => setImmediate(r)).then(work);
  const wallMs = performance.now() - start;
  await new Promise((r) => setTimeout(r, 20)); // one more tick after a synchronous stretch
  clearInterval(probe);
  return { stallMs, wallMs };
}

const pool = new ComputePool(1);
afterAll(() => pool.close());

describe('the compute pool', () => {
  it('keeps the event loop responsive while a heavy fit runs, unlike the same fit inline', async () => {
    const table = heavyTable(800_000);
    await pool.run('fitRidge', { table: heavyTable(100), features: FEATURES, target: 'y' }); // thread started and warm

    const inline = await worstStall(async () => fitRidge(table, FEATURES, 'y'));
    let model: Awaited<ReturnType<typeof fitRidge>> | undefined;
    const pooled = await worstStall(async () => (model = await pool.run('fitRidge', { table, features: FEATURES, target: 'y' })));
    console.log(`event-loop stall: inline fit ${inline.stallMs.toFixed(0)} ms (fit ${inline.wallMs.toFixed(0)} ms), pooled fit ${pooled.stallMs.toFixed(0)} ms (wall ${pooled.wallMs.toFixed(0)} ms)`);

    expect(inline.stallMs).toBeGreaterThan(150); // the fit is heavy enough to show the difference
    // Cloning the table into the thread costs a little; the fit itself never blocks this loop.
    // A ratio, not a time: on a loaded machine both stalls grow together (measured ~45 vs ~330 ms when quiet).
    expect(pooled.stallMs).toBeLessThan(inline.stallMs / 2);
    expect(model!.weights).toEqual(fitRidge(table, FEATURES, 'y').weights);
  });

  it('reports a task failure with its message, and keeps working', async () => {
    const err = await pool.run('fitRidge', { table: heavyTable(10), features: ['nope'], target: 'y' }).catch((e) => e);
    expect(err).toBeInstanceOf(ComputeError);
    expect(err.message).toMatch(/feature column "nope" is missing/);
    const ok = await pool.run('fitRidge', { table: heavyTable(50), features: ['x0'], target: 'y' });
    expect(ok.weights).toHaveLength(1);
  });

  it('stops a running task when its signal aborts, and the next task gets a fresh thread', async () => {
    const controller = new AbortController();
    const running = pool.run('fitRidge', { table: heavyTable(400_000), features: FEATURES, target: 'y' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(running).rejects.toBeInstanceOf(ComputeAborted);
    const ok = await pool.run('fitRidge', { table: heavyTable(50), features: ['x0'], target: 'y' });
    expect(ok.weights).toHaveLength(1);
  });

  it('runs one thread per core but one unless COMPUTE_THREADS says otherwise', () => {
    expect(defaultComputeThreads({ COMPUTE_THREADS: '3' })).toBe(3);
    expect(defaultComputeThreads({})).toBeGreaterThanOrEqual(1);
    expect(() => defaultComputeThreads({ COMPUTE_THREADS: '0' })).toThrow(/COMPUTE_THREADS/);
  });
});
