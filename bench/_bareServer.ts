/**
 * The serving benchmark's yardstick: a bare `node:http` server that parses the JSON body and calls
 * `session.run` on the same ONNX file as the product, and nothing else (no auth, no validation beyond
 * what building the tensors needs, no logging). Arguments: the ONNX file, the model's signature (JSON).
 * Prints its port on stdout once listening.
 */
import fs from 'node:fs';
import http from 'node:http';
import ort from 'onnxruntime-node';
import type { ModelSignature } from '../src/registry/registry';

const [file, signatureJson] = process.argv.slice(2);
const signature = JSON.parse(signatureJson) as ModelSignature;
const session = await ort.InferenceSession.create(fs.readFileSync(file), { intraOpNumThreads: 1, interOpNumThreads: 1 });

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', async () => {
    try {
      const rows = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { rows: Record<string, number | string | null>[] }).rows;
      const n = rows.length;
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of signature.inputs) {
        if (input.kind === 'numeric') {
          const data = new Float64Array(n);
          for (let i = 0; i < n; i++) data[i] = (rows[i][input.name] as number | null) ?? Number.NaN;
          feeds[input.name] = new ort.Tensor('float64', data, [n, 1]);
        } else {
          const data = new Array<string>(n);
          for (let i = 0; i < n; i++) data[i] = (rows[i][input.name] as string | null) ?? '';
          feeds[input.name] = new ort.Tensor('string', data, [n, 1]);
        }
      }
      const output = (await session.run(feeds))[signature.output].data as Float64Array;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ predictions: Array.from(output) }));
    } catch (err) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }));
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
