/**
 * The serving benchmark's load generator, run as its own process (so it never shares an event loop with
 * the server it measures): autocannon, with every response's latency kept exactly (autocannon's own
 * histogram rounds to whole milliseconds). Argument: one JSON object; prints one JSON line.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => {
  on(event: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  then: Promise<AutocannonResult>['then'];
};
interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  requests: { total: number; average: number; sent: number };
  duration: number;
}

const job = JSON.parse(process.argv[2]) as { url: string; body: string; token?: string; connections: number; seconds: number; rate?: number };
const latencies: number[] = [];
const instance = autocannon({
  url: job.url,
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(job.token ? { authorization: `Bearer ${job.token}` } : {}) },
  body: job.body,
  connections: job.connections,
  duration: job.seconds,
  ...(job.rate ? { overallRate: job.rate } : {}),
});
let failedStatus = 0;
instance.on('response', (_client, status, _bytes, ms) => {
  if (status >= 200 && status < 300) latencies.push(ms);
  else failedStatus++;
});
const result = await (instance as unknown as Promise<AutocannonResult>);
latencies.sort((a, b) => a - b);
const q = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null);
const ok = latencies.length;
process.stdout.write(
  `${JSON.stringify({
    ok,
    rps: ok / result.duration,
    seconds: result.duration,
    errors: result.errors + result.timeouts + failedStatus,
    p50_ms: q(0.5),
    p90_ms: q(0.9),
    p99_ms: q(0.99),
    max_ms: latencies[latencies.length - 1] ?? null,
  })}\n`,
);
process.exit(0);
