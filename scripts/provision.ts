/**
 * `npm run provision`: makes sure the servers the product and the tests run are there, with the same
 * resolvers as `npm start` and the tests: the Temporal CLI (env, PATH, cache, or a one-time
 * `go install`) and MinIO, the S3-compatible server of the tests (MINIO_BIN, PATH, cache, or a one-time
 * `go install`). Both builds run side by side: they share Go's module cache and the two cores.
 * Exits 1 if MinIO cannot be had (the S3 tests need it; they are never skipped).
 */
import { MINIO_VERSION, resolveMinio } from '../src/infra/minio';
import { resolveTemporalCli, TEMPORAL_CLI_VERSION } from '../src/infra/temporalCli';

const started = Date.now();
const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
const [temporal, minio] = await Promise.allSettled([
  resolveTemporalCli({ log: (m) => console.log(`[temporal] ${m}`) }).then((cli) => {
    console.log(
      cli.path
        ? `temporal CLI ${TEMPORAL_CLI_VERSION}: ${cli.path} (${cli.source}, ${seconds()})`
        : 'temporal CLI: not found and Go is missing; the Temporal SDK will download the dev server (needs internet)',
    );
  }),
  resolveMinio({ log: (m) => console.log(`[minio] ${m}`) }).then((found) => console.log(`MinIO ${MINIO_VERSION}: ${found.path} (${found.source}, ${seconds()})`)),
]);
const failed = [temporal, minio].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
for (const f of failed) console.error(`provision failed: ${(f.reason as Error).message}`);
if (failed.length) process.exit(1);
