// Builds a self-contained ONNX model for a LinearModel. The graph takes RAW feature columns
// (one input per feature, named like the column) and reproduces the preprocessing of ridge.ts,
// so serving needs no TypeScript-side feature code.
import onnxProto from 'onnx-proto';
import type { onnx } from 'onnx-proto';
import { effectiveStd, encodedWidth, type LinearModel } from '../ridge';

// onnx-proto is CommonJS with `module.exports = root`, so Node ESM exposes it only as the default export.
const proto = onnxProto.onnx;

export const PREDICTION_OUTPUT = 'prediction';
/** ai.onnx opset; every op used here (IsNaN, Where, Sub, Div, Reshape, Cast, Concat, MatMul, Add, Shape, ConstantOfShape) exists in 17. */
export const ONNX_OPSET = 17;
/** ai.onnx.ml opset; OneHotEncoder has a single version (1), so any ml opset >= 1 resolves it. */
export const ONNX_ML_OPSET = 3;
export const ONNX_IR_VERSION = 8;

/** Prefix of every internal tensor name; feature names may not start with it. */
const INTERNAL = '__lc_';

export interface LinearModelSignature {
  inputs: { name: string; kind: 'numeric' | 'categorical' }[];
  output: 'prediction';
}

/** Graph inputs (one per feature, in model order) and the output name. */
export function linearModelSignature(model: LinearModel): LinearModelSignature {
  return { inputs: model.features.map((f) => ({ name: f.name, kind: f.kind })), output: PREDICTION_OUTPUT };
}

const DOUBLE = proto.TensorProto.DataType.DOUBLE;
const STRING = proto.TensorProto.DataType.STRING;
const INT64 = proto.TensorProto.DataType.INT64;
const A = proto.AttributeProto.AttributeType;

function doubleTensor(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dataType: DOUBLE, dims, doubleData: values };
}

function node(opType: string, inputs: string[], outputs: string[], attribute: onnx.IAttributeProto[] = [], domain = ''): onnx.INodeProto {
  return { opType, input: inputs, output: outputs, name: outputs[0], attribute, domain };
}

/** [N,1] value info with symbolic batch dimension "N". */
function columnValueInfo(name: string, elemType: number): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'N' }, { dimValue: 1 }] } } },
  };
}

function validate(model: LinearModel): void {
  if (model.features.length === 0) throw new Error('buildLinearModelOnnx: model has no features');
  const width = encodedWidth(model);
  if (model.weights.length !== width) {
    throw new Error(`buildLinearModelOnnx: model has ${model.weights.length} weights but its features encode to ${width} columns`);
  }
  const seen = new Set<string>();
  for (const f of model.features) {
    if (seen.has(f.name)) throw new Error(`buildLinearModelOnnx: duplicate feature "${f.name}"`);
    seen.add(f.name);
    if (f.name === '' || f.name === PREDICTION_OUTPUT || f.name.startsWith(INTERNAL)) {
      throw new Error(`buildLinearModelOnnx: feature name "${f.name}" clashes with graph names ("${PREDICTION_OUTPUT}" or prefix "${INTERNAL}")`);
    }
  }
}

/**
 * Serializes `model` as ONNX (IR 8, ai.onnx 17 + ai.onnx.ml 3).
 * numeric input x (double [N,1]):    Div(Sub(Where(IsNaN(x), mean, x), mean), std)
 * categorical input c (string [N,1]): Cast<double>(Reshape(OneHotEncoder(c, zeros=1), [0, C]))
 * prediction = Add(MatMul(Concat(blocks, axis=1), W[D,1]), intercept)  -> double [N,1]
 * A categorical feature with no retained category contributes no columns (its input is unused).
 */
export function buildLinearModelOnnx(
  model: LinearModel,
  meta: { producer?: string; docString?: string; metadata?: Record<string, string> },
): Uint8Array {
  validate(model);
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  const inputs: onnx.IValueInfoProto[] = [];
  const blocks: string[] = [];

  model.features.forEach((f, i) => {
    const t = (suffix: string) => `${INTERNAL}f${i}_${suffix}`;
    if (f.kind === 'numeric') {
      inputs.push(columnValueInfo(f.name, DOUBLE));
      initializers.push(doubleTensor(t('mean'), [], [f.mean]), doubleTensor(t('std'), [], [effectiveStd(f.std)]));
      nodes.push(
        node('IsNaN', [f.name], [t('isnan')]),
        node('Where', [t('isnan'), t('mean'), f.name], [t('imputed')]),
        node('Sub', [t('imputed'), t('mean')], [t('centered')]),
        node('Div', [t('centered'), t('std')], [t('z')]),
      );
      blocks.push(t('z'));
      return;
    }
    inputs.push(columnValueInfo(f.name, STRING));
    const c = f.categories.length;
    if (c === 0) return;
    const encoder = new TextEncoder();
    initializers.push({ name: t('shape'), dataType: INT64, dims: [2], int64Data: [0, c] });
    nodes.push(
      node(
        'OneHotEncoder',
        [f.name],
        [t('onehot')],
        [
          { name: 'cats_strings', type: A.STRINGS, strings: f.categories.map((s) => encoder.encode(s)) },
          // zeros=1: an unknown category yields an all-zero row instead of an error.
          { name: 'zeros', type: A.INT, i: 1 },
        ],
        'ai.onnx.ml',
      ),
      // OneHotEncoder emits float [N,1,C]; shape [0, C] keeps N (0 = copy input dim) even when N is 0.
      node('Reshape', [t('onehot'), t('shape')], [t('onehot2d')]),
      node('Cast', [t('onehot2d')], [t('encoded')], [{ name: 'to', type: A.INT, i: DOUBLE }]),
    );
    blocks.push(t('encoded'));
  });

  const d = encodedWidth(model);
  initializers.push(doubleTensor(`${INTERNAL}intercept`, [1], [model.intercept]));
  if (d > 0) {
    initializers.push(doubleTensor(`${INTERNAL}weights`, [d, 1], model.weights));
    nodes.push(
      node('Concat', blocks, [`${INTERNAL}design`], [{ name: 'axis', type: A.INT, i: 1 }]),
      node('MatMul', [`${INTERNAL}design`, `${INTERNAL}weights`], [`${INTERNAL}dot`]),
      node('Add', [`${INTERNAL}dot`, `${INTERNAL}intercept`], [PREDICTION_OUTPUT]),
    );
  } else {
    // Nothing encoded (e.g. only all-missing categoricals): broadcast the intercept to [N,1].
    nodes.push(
      node('Shape', [model.features[0].name], [`${INTERNAL}nshape`]),
      node('ConstantOfShape', [`${INTERNAL}nshape`], [`${INTERNAL}zeros`], [
        { name: 'value', type: A.TENSOR, t: doubleTensor('', [1], [0]) },
      ]),
      node('Add', [`${INTERNAL}zeros`, `${INTERNAL}intercept`], [PREDICTION_OUTPUT]),
    );
  }

  const metadata = meta.metadata ?? {};
  const modelProto: onnx.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [
      { domain: '', version: ONNX_OPSET },
      { domain: 'ai.onnx.ml', version: ONNX_ML_OPSET },
    ],
    producerName: meta.producer ?? 'lifecycle',
    docString: meta.docString ?? '',
    graph: {
      name: 'linear_model',
      node: nodes,
      initializer: initializers,
      input: inputs,
      output: [columnValueInfo(PREDICTION_OUTPUT, DOUBLE)],
    },
    // Sorted so identical models serialize to identical bytes.
    metadataProps: Object.keys(metadata)
      .sort()
      .map((key) => ({ key, value: metadata[key] })),
  };
  return proto.ModelProto.encode(proto.ModelProto.create(modelProto)).finish();
}
