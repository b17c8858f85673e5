/**
 * Keeps an embedded server running: when its process exits without being asked to, it is started again
 * with backoff, each step logged. After `maxFailures` failures (unexpected exits or failed restarts)
 * within `windowMs` it gives up and calls `onGiveUp` with a clear message: the caller then stops
 * everything and exits non-zero, so a process manager (systemd, pm2) sees the failure.
 *
 * Only the supervisor stops the server (`stop()`): no restart happens after that.
 */
export interface SupervisedProcess {
  /** Settles once the process has exited, for whatever reason. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

export type SupervisedState = 'up' | 'restarting' | 'failed' | 'stopped';

export interface SupervisorStatus {
  state: SupervisedState;
  /** Restarts that succeeded since start. */
  restarts: number;
  /** Why the process last exited unexpectedly, or why the last restart failed. */
  lastError: string | null;
  /** When the current state began (ms since epoch). */
  since: number;
}

export interface SupervisorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SupervisorOptions<H extends SupervisedProcess> {
  /** Short name used in logs and readiness ("temporal", "postgres"). */
  name: string;
  start: () => Promise<H>;
  log: SupervisorLog;
  /** First delay before a restart; doubled after each failed attempt up to `maxDelayMs`. Default 500 ms. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many failures within `windowMs`. Defaults: 5 within 2 minutes. */
  maxFailures?: number;
  windowMs?: number;
  /** Called once when the supervisor gives up (the server then stays down). */
  onGiveUp: (err: Error) => void;
  /** Called after each successful restart with the new handle. */
  onRestart?: (handle: H) => void;
}

export interface Supervisor<H extends SupervisedProcess> {
  /** The handle of the running process (the last one started). */
  current(): H;
  status(): SupervisorStatus;
  /** Stops supervising, then stops the process (waits for a restart in progress to finish first). */
  stop(): Promise<void>;
}

/** Starts the process (a failed first start rejects, as without supervision) and watches it. */
export async function supervise<H extends SupervisedProcess>(o: SupervisorOptions<H>): Promise<Supervisor<H>> {
  const initialDelay = o.initialDelayMs ?? 500;
  const maxDelay = o.maxDelayMs ?? 8_000;
  const maxFailures = o.maxFailures ?? 5;
  const windowMs = o.windowMs ?? 120_000;

  let handle = await o.start();
  let status: SupervisorStatus = { state: 'up', restarts: 0, lastError: null, since: Date.now() };
  let stopping = false;
  let wake: (() => void) | null = null;
  const failures: number[] = [];

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = null;
        resolve();
      }
      wake = done;
    });

  /** Records a failure; true when there were too many within the window. */
  const failed = (why: string): boolean => {
    const now = Date.now();
    failures.push(now);
    while (failures.length && failures[0]! < now - windowMs) failures.shift();
    status = { ...status, lastError: why };
    return failures.length >= maxFailures;
  };

  const giveUp = () => {
    const err = new Error(
      `${o.name} failed ${failures.length} times within ${Math.round(windowMs / 1000)} s; giving up (last error: ${status.lastError})`,
    );
    status = { ...status, state: 'failed', since: Date.now() };
    o.log.error({ component: 'supervisor', server: o.name, err: err.message }, `${o.name}: giving up`);
    o.onGiveUp(err);
  };

  const watch = async (): Promise<void> => {
    for (;;) {
      const why = await handle.exited;
      if (stopping) return;
      const downAt = Date.now();
      status = { ...status, state: 'restarting', since: downAt };
      await handle.stop().catch(() => {}); // the process is gone: this only tidies up (pid files, logs)
      if (failed(why)) return giveUp();
      let delay = initialDelay;
      for (let attempt = 1; ; attempt++) {
        o.log.warn({ component: 'supervisor', server: o.name, why: status.lastError, attempt, delayMs: delay }, `${o.name}: restarting in ${delay} ms`);
        await sleep(delay);
        if (stopping) return;
        try {
          handle = await o.start();
        } catch (err) {
          const message = (err as Error).message.split('\n')[0] ?? String(err);
          if (stopping) return;
          if (failed(`restart failed: ${message}`)) return giveUp();
          o.log.warn({ component: 'supervisor', server: o.name, attempt, err: message }, `${o.name}: restart failed`);
          delay = Math.min(maxDelay, delay * 2);
          continue;
        }
        if (stopping) {
          await handle.stop();
          return;
        }
        status = { state: 'up', restarts: status.restarts + 1, lastError: status.lastError, since: Date.now() };
        o.log.info({ component: 'supervisor', server: o.name, attempt, downMs: Date.now() - downAt }, `${o.name}: restarted after ${((Date.now() - downAt) / 1000).toFixed(1)} s down`);
        o.onRestart?.(handle);
        break;
      }
    }
  };
  const watching = watch();

  let stopped: Promise<void> | undefined;
  return {
    current: () => handle,
    status: () => status,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        wake?.();
        if (status.state === 'up') {
          await handle.stop(); // the watcher, waiting for an exit, sees `stopping` and returns
          await watching;
        } else {
          await watching; // a restart in progress finishes (and stops what it started) first
          await handle.stop();
        }
        status = { ...status, state: 'stopped', since: Date.now() };
      })()),
  };
}
