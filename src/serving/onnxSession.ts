import ort from 'onnxruntime-node';
import { tableToFeeds } from '../domain/onnx/feeds';
import type { Table } from '../domain/table';
import type { ModelSignature } from '../registry/registry';

export type OnnxSession = ort.InferenceSession;

export function createSession(bytes: Uint8Array): Promise<OnnxSession> {
  // One intra-op thread: serving and evaluation run many small batches side by side on few cores.
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
}

/** Scores every row of a table (or of several, one after another, in one run) with a model that takes raw feature columns. */
export async function predictTable(session: OnnxSession, signature: ModelSignature, table: Table | readonly Table[]): Promise<Float64Array> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const feed of tableToFeeds(table, signature.inputs)) {
    feeds[feed.name] = new ort.Tensor(feed.type, feed.data, feed.dims);
  }
  const output = (await session.run(feeds))[signature.output];
  return Float64Array.from(output.data as Float64Array);
}
