import { describe, it, expect } from 'vitest';
import ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { buildLinearModelOnnx, linearModelSignature } from '../../src/domain/onnx/linearModelGraph';
import { tableToFeeds } from '../../src/domain/onnx/feeds';
import { fitRidge, meanBaseline, predictLinear, type LinearModel } from '../../src/domain/ridge';
import { mulberry32 } from '../../src/domain/split';
import type { Table } from '../../src/domain/table';

/** Runs ONNX bytes through onnxruntime on the table and returns the `prediction` column. */
async function runOnnx(bytes: Uint8Array, model: LinearModel, table: Table): Promise<Float64Array> {
  const session = await ort.InferenceSession.create(bytes);
  const signature = linearModelSignature(model);
  expect([...session.inputNames].sort()).toEqual(signature.inputs.map((i) => i.name).sort());
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of tableToFeeds(table, signature.inputs)) {
    feeds[f.name] = f.type === 'float64' ? new ort.Tensor('float64', f.data, f.dims) : new ort.Tensor('string', f.data, f.dims);
  }
  const out = (await session.run(feeds))[signature.output];
  expect(out.type).toBe('float64');
  expect(out.dims).toEqual([table.rowCount, 1]);
  return out.data as Float64Array;
}

/** Synthetic data: two numeric and two categorical features with missing values. */
function generate(n: number, seed: number): Table {
  const rand = mulberry32(seed);
  const colours = ['red', 'green', 'blue', 'amber'];
  const sizes = ['S', 'M', 'L'];
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const colour: (string | null)[] = [];
  const size: (string | null)[] = [];
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rand() * 100 - 20;
    b[i] = rand() < 0.1 ? NaN : rand() * 3;
    colour.push(rand() < 0.08 ? null : colours[Math.floor(rand() * colours.length)]);
    size.push(sizes[Math.floor(rand() * sizes.length)]);
    y[i] = 0.5 * a[i] + 4 * (Number.isNaN(b[i]) ? 1 : b[i]) + colours.indexOf(colour[i] ?? 'x') * 3 + rand();
    if (rand() < 0.05) a[i] = NaN; // missing after generating the target
  }
  return {
    rowCount: n,
    columns: {
      a: { kind: 'numeric', values: a },
      colour: { kind: 'categorical', values: colour },
      b: { kind: 'numeric', values: b },
      size: { kind: 'categorical', values: size },
      y: { kind: 'numeric', values: y },
    },
  };
}

/** Scoring rows: unseen categories, '' and null, NaN numerics, extreme values. */
const scoring: Table = {
  rowCount: 7,
  columns: {
    a: { kind: 'numeric', values: Float64Array.from([10, NaN, -1e6, 0, 55.5, NaN, 3]) },
    colour: { kind: 'categorical', values: ['red', 'purple', null, '', 'amber', 'blue', 'RED'] },
    b: { kind: 'numeric', values: Float64Array.from([NaN, 1, 2, NaN, 0, 2.5, 1e3]) },
    size: { kind: 'categorical', values: ['S', 'M', 'XL', null, 'L', 'S', 'M'] },
  },
};

function expectAbsClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) throw new Error(`row ${i}: onnx ${actual[i]} vs ts ${expected[i]}`);
  }
}

const features = ['a', 'colour', 'b', 'size'];

describe('buildLinearModelOnnx', () => {
  const train = generate(500, 11);
  const model = fitRidge(train, features, 'y', { alpha: 0.5 });

  it('reproduces predictLinear in onnxruntime for training rows', async () => {
    const bytes = buildLinearModelOnnx(model, { producer: 'test' });
    const expected = predictLinear(model, train);
    expectAbsClose(await runOnnx(bytes, model, train), expected, 1e-6);
    // Sanity: the model actually learned something (weights are not trivially zero).
    expect(model.weights.some((w) => Math.abs(w) > 1)).toBe(true);
  });

  it('handles missing numerics, missing/unknown categories in onnxruntime like predictLinear', async () => {
    const bytes = buildLinearModelOnnx(model, {});
    const expected = predictLinear(model, scoring);
    expectAbsClose(await runOnnx(bytes, model, scoring), expected, 1e-6);
    // Row 1 (NaN a, unseen colour) must equal a row with a at its mean and no colour contribution.
    const enc = model.features[0];
    if (enc.kind !== 'numeric') throw new Error('a should be numeric');
    const manual: Table = {
      rowCount: 1,
      columns: {
        a: { kind: 'numeric', values: Float64Array.from([enc.mean]) },
        colour: { kind: 'categorical', values: [null] },
        b: { kind: 'numeric', values: Float64Array.from([1]) },
        size: { kind: 'categorical', values: ['M'] },
      },
    };
    expect(expected[1]).toBeCloseTo(predictLinear(model, manual)[0], 9);
  });

  it('scores a zero-row batch', async () => {
    const empty: Table = {
      rowCount: 0,
      columns: Object.fromEntries(Object.entries(scoring.columns).map(([k, c]) =>
        [k, c.kind === 'numeric' ? { kind: 'numeric', values: new Float64Array(0) } : { kind: 'categorical', values: [] }])),
    } as Table;
    const out = await runOnnx(buildLinearModelOnnx(model, {}), model, empty);
    expect(out.length).toBe(0);
  });

  it('baseline model predicts the training mean through onnxruntime', async () => {
    const base = meanBaseline(train, features, 'y');
    const y = train.columns.y.values as Float64Array;
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const out = await runOnnx(buildLinearModelOnnx(base, {}), base, scoring);
    for (const p of out) expect(Math.abs(p - mean)).toBeLessThan(1e-9);
  });

  it('works when no column is encoded (all-missing categorical)', async () => {
    const table: Table = {
      rowCount: 3,
      columns: { c: { kind: 'categorical', values: [null, null, ''] }, y: { kind: 'numeric', values: Float64Array.from([1, 2, 6]) } },
    };
    const m = fitRidge(table, ['c'], 'y');
    expect(m.weights).toEqual([]);
    const out = await runOnnx(buildLinearModelOnnx(m, {}), m, table);
    expectAbsClose(out, [3, 3, 3], 1e-12);
  });

  it('writes the declared signature, opsets and metadata', () => {
    const bytes = buildLinearModelOnnx(model, { producer: 'lifecycle-test', docString: 'ridge', metadata: { z: '1', a: 'x' } });
    const decoded = onnxProto.onnx.ModelProto.decode(bytes);
    expect(Number(decoded.irVersion)).toBe(8);
    expect(decoded.producerName).toBe('lifecycle-test');
    expect(decoded.docString).toBe('ridge');
    expect(decoded.metadataProps.map((p) => [p.key, p.value])).toEqual([['a', 'x'], ['z', '1']]);
    expect(decoded.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17], ['ai.onnx.ml', 3]]);
    const graph = decoded.graph!;
    expect(graph.input!.map((i) => [i.name, i.type!.tensorType!.elemType])).toEqual([
      ['a', onnxProto.onnx.TensorProto.DataType.DOUBLE],
      ['colour', onnxProto.onnx.TensorProto.DataType.STRING],
      ['b', onnxProto.onnx.TensorProto.DataType.DOUBLE],
      ['size', onnxProto.onnx.TensorProto.DataType.STRING],
    ]);
    expect(graph.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['N', 1]);
    expect(graph.output!.map((o) => o.name)).toEqual(['prediction']);
    expect(linearModelSignature(model)).toEqual({
      inputs: [
        { name: 'a', kind: 'numeric' },
        { name: 'colour', kind: 'categorical' },
        { name: 'b', kind: 'numeric' },
        { name: 'size', kind: 'categorical' },
      ],
      output: 'prediction',
    });
    // Deterministic serialization.
    expect(buildLinearModelOnnx(model, { metadata: { a: 'x', z: '1' } })).toEqual(buildLinearModelOnnx(model, { metadata: { z: '1', a: 'x' } }));
  });

  it('rejects models it cannot represent', () => {
    expect(() => buildLinearModelOnnx({ features: [], weights: [], intercept: 1 }, {})).toThrow(/no features/);
    expect(() => buildLinearModelOnnx({ ...model, weights: [1] }, {})).toThrow(/weights/);
    const clash: LinearModel = { features: [{ name: 'prediction', kind: 'numeric', mean: 0, std: 1 }], weights: [1], intercept: 0 };
    expect(() => buildLinearModelOnnx(clash, {})).toThrow(/clashes/);
  });
});

describe('tableToFeeds', () => {
  it('builds [n,1] feeds, mapping missing categories to empty strings', () => {
    const feeds = tableToFeeds(scoring, [{ name: 'colour', kind: 'categorical' }, { name: 'b', kind: 'numeric' }]);
    expect(feeds[0]).toEqual({ name: 'colour', type: 'string', data: ['red', 'purple', '', '', 'amber', 'blue', 'RED'], dims: [7, 1] });
    expect(feeds[1].type).toBe('float64');
    expect(Array.from(feeds[1].data as Float64Array)).toEqual([NaN, 1, 2, NaN, 0, 2.5, 1e3]);
    expect(feeds[1].data).not.toBe(scoring.columns.b.values);
    expect(() => tableToFeeds(scoring, [{ name: 'nope', kind: 'numeric' }])).toThrow(/"nope" is missing/);
    expect(() => tableToFeeds(scoring, [{ name: 'a', kind: 'categorical' }])).toThrow(/expects categorical/);
  });

  it('puts the rows of several tables one after another (a batch of requests), missing values kept', () => {
    const a: Table = { rowCount: 2, columns: { x: { kind: 'numeric', values: Float64Array.from([1, Number.NaN, 99]) }, c: { kind: 'categorical', values: ['a', null] } } };
    const b: Table = { rowCount: 1, columns: { x: { kind: 'numeric', values: Float64Array.from([3]) }, c: { kind: 'categorical', values: [''] } } };
    const [c, x] = tableToFeeds([a, b], [{ name: 'c', kind: 'categorical' }, { name: 'x', kind: 'numeric' }]);
    expect(c).toEqual({ name: 'c', type: 'string', data: ['a', '', ''], dims: [3, 1] });
    expect(x.dims).toEqual([3, 1]);
    expect([...(x.data as Float64Array)]).toEqual([1, Number.NaN, 3]); // a's third value is beyond its rowCount
    expect(() => tableToFeeds([a, { rowCount: 1, columns: { x: { kind: 'categorical', values: ['1'] }, c: b.columns.c } }], [{ name: 'x', kind: 'numeric' }])).toThrow(/"x" is categorical but the model expects numeric/);
    expect(() => tableToFeeds([a, { rowCount: 1, columns: {} }], [{ name: 'c', kind: 'categorical' }])).toThrow(/"c" is missing/);
  });
});
