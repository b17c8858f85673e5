/**
 * `npm run provision`: makes sure the Temporal CLI is available (env, PATH, cache, or a one-time
 * `go install`, ~10 min cold) using the same resolver as `npm start` and the tests.
 */
import { resolveTemporalCli, TEMPORAL_CLI_VERSION } from '../src/infra/temporalCli';

const started = Date.now();
const cli = await resolveTemporalCli({ log: (m) => console.log(m) });
console.log(
  cli.path
    ? `temporal CLI ${TEMPORAL_CLI_VERSION}: ${cli.path} (${cli.source}, ${((Date.now() - started) / 1000).toFixed(1)} s)`
    : 'temporal CLI: not found and Go is missing; the Temporal SDK will download the dev server (needs internet)',
);
