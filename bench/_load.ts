/**
 * The serving benchmark's load generator, run as its own process (so it never shares an event loop with
 * the server it measures). At full speed: autocannon, with every response's latency kept exactly
 * (autocannon's own histogram rounds to whole milliseconds). At a steady rate: evenly spaced requests
 * (see `paced`). Argument: one JSON object; prints one JSON line.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

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

/** `ids`: keep the `x-request-id` of every answer of a steady run (the bench looks them up in prediction_log). */
const job = JSON.parse(process.argv[2]) as { url: string; body: string; token?: string; connections: number; seconds: number; rate?: number; ids?: boolean };
const requestIds: string[] = [];
const latencies: number[] = [];
/** Steady runs: how late each request went out after it was due (the generator's own delay, included in its latency). */
const lateness: number[] = [];
const WARM_UP_MS = 1_000;
const headers = { 'content-type': 'application/json', ...(job.token ? { authorization: `Bearer ${job.token}` } : {}) };

/**
 * A steady rate, evenly spaced: one request every 1/rate s on up to `connections` keep-alive sockets.
 * (autocannon's own rate limit lets each connection send its share of a second at the start of that
 * second, a burst that queues ~500 requests at once and measures the queue, not the server.)
 * Latency runs from the moment a request was due, so a server that falls behind pays for it; how late
 * the generator itself sent them is reported too (`send_late_*`). The first second at the same rate is
 * a warm-up, not recorded (as wrk2's calibration): connections are opened and this code compiled then.
 */
async function paced(rate: number): Promise<{ duration: number; errors: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: job.connections });
  const url = new URL(job.url);
  const body = Buffer.from(job.body);
  const interval = 1000 / rate;
  const started = performance.now();
  const measuredFrom = started + WARM_UP_MS;
  const end = measuredFrom + job.seconds * 1000;
  let sent = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const send = (due: number) => {
    const recorded = due >= measuredFrom;
    const done = new Promise<void>((resolve) => {
      const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { ...headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode! < 200 || res.statusCode! >= 300) errors++; // the warm-up's too
          else if (recorded) {
            latencies.push(performance.now() - due);
            const id = res.headers['x-request-id'];
            if (job.ids && typeof id === 'string') requestIds.push(id);
          }
          resolve();
        });
      });
      req.on('error', () => (errors++, resolve()));
      req.end(body);
    });
    inFlight.add(done);
    void done.then(() => inFlight.delete(done));
  };
  while (performance.now() < end) {
    const now = performance.now();
    for (let due = started + sent * interval; due <= now && due < end; due = started + sent * interval) {
      if (due >= measuredFrom) lateness.push(now - due);
      send(due);
      sent++;
    }
    // libuv's timers count whole milliseconds: a timer alone sent requests up to ~1 ms late, and that
    // lateness counted as the server's latency (the bare server's p50 was 0.8 ms, now 0.25). Sleep while
    // the next request is over 1.6 ms away, then poll (setImmediate runs I/O callbacks in between).
    const wait = started + sent * interval - performance.now();
    await new Promise((r) => (wait > 1.6 ? setTimeout(r, Math.floor(wait - 0.6)) : setImmediate(r)));
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { duration: (performance.now() - measuredFrom) / 1000, errors };
}

if (job.rate) {
  const { duration, errors } = await paced(job.rate);
  report(duration, errors);
} else {
  const instance = autocannon({
    url: job.url,
    method: 'POST',
    headers,
    body: job.body,
    connections: job.connections,
    duration: job.seconds,
  });
  let failedStatus = 0;
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(ms);
    else failedStatus++;
  });
  const result = await (instance as unknown as Promise<AutocannonResult>);
  report(result.duration, result.errors + result.timeouts + failedStatus);
}

function quantile(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null;
}

function report(duration: number, errors: number): void {
  const q = (p: number) => quantile(latencies, p);
  const ok = latencies.length;
  process.stdout.write(
    `${JSON.stringify({
      ok,
      rps: ok / duration,
      seconds: duration,
      errors,
      p50_ms: q(0.5),
      p90_ms: q(0.9),
      p99_ms: q(0.99),
      max_ms: q(1),
      ...(job.rate ? { send_late_p99_ms: quantile(lateness, 0.99), send_late_max_ms: quantile(lateness, 1) } : {}),
      ...(job.ids ? { request_ids: requestIds } : {}),
    })}\n`,
    // Exit once the line is out: a steady run's request ids fill the pipe, and an exit cut the line short.
    () => process.exit(0),
  );
}
