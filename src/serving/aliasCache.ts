import pg from 'pg';
import type { Logger } from '../logger';
import { CONNECT_TIMEOUT_MS } from '../registry/db';
import type { AliasedVersion, ModelVersion, Registry } from '../registry/registry';

/** The channel a trigger on `aliases` notifies (payload: the model's name) in the moving transaction. */
export const ALIAS_CHANNEL = 'lifecycle_aliases';

export interface AliasCacheOptions {
  /** Every cached model is read again this often, so a lost notification heals. Default 30 s. */
  resyncMs?: number;
  /** First delay before connecting the LISTEN connection again after it dropped (doubles up to 5 s). Default 250 ms. */
  reconnectMs?: number;
  /** Models kept in the cache (those with and without aliases); beyond it the cache starts over. Default 10,000. */
  maxModels?: number;
}

/** What the predictor needs from an alias source. */
export interface AliasSource {
  /** The version behind `model`'s `alias`, or null. Answered from memory once the model is loaded. */
  resolve(model: string, alias: string): ModelVersion | null | Promise<ModelVersion | null>;
  /** The alias's version if the model is loaded already (canary and shadow, looked up beside production); never waits. */
  peek?(model: string, alias: string): AliasedVersion | null;
  /** Whether any alias of the model points at this version (its session must then stay loaded). */
  isAliased(model: string, versionId: number): boolean;
  /** Called with each version an alias is about to point at, before requests see the move (e.g. load its session). */
  prepare?: (version: ModelVersion) => Promise<unknown>;
}

/** Asks the registry on every call: for callers without a database to listen to (unit tests). */
export function queryingAliases(registry: Pick<Registry, 'resolveAlias'>): AliasSource {
  return { resolve: (model, alias) => registry.resolveAlias(model, alias), isAliased: () => false };
}

/**
 * Every alias of the models this process serves, in memory. A model is read on its first use (one query
 * for all its aliases); after that a request costs a map lookup. It stays fresh by:
 * - LISTEN on `lifecycle_aliases`: a trigger notifies the model's name in the transaction that moves
 *   one of its aliases (delivered on commit), and the model is read again;
 * - a resync of every cached model every `resyncMs` (a notification lost for any reason heals);
 * - a resync whenever the LISTEN connection (re)connects, since notifications sent while it was down are lost.
 * A moved alias becomes visible only once `prepare` (the predictor loading the new session) is done, so
 * no request waits for a model to load or fails during a deploy.
 */
export class AliasCache implements AliasSource {
  private readonly models = new Map<string, Map<string, AliasedVersion>>();
  /** Bumped by each notification: a read that started before it must not overwrite what it announced. */
  private readonly generations = new Map<string, number>();
  private readonly refreshing = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private listener: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private readonly resyncTimer: NodeJS.Timeout;
  private reconnectDelay: number;
  private closed = false;
  prepare?: (version: ModelVersion) => Promise<unknown>;
  /** Counters for tests and the curious. */
  readonly stats = { loads: 0, notifications: 0, resyncs: 0, connects: 0 };

  constructor(
    private readonly registry: Pick<Registry, 'aliasesOf'>,
    private readonly connectionString: string,
    private readonly log: Logger,
    private readonly options: AliasCacheOptions = {},
  ) {
    this.reconnectDelay = options.reconnectMs ?? 250;
    this.resyncTimer = setInterval(() => void this.resync('periodic'), options.resyncMs ?? 30_000).unref();
    void this.connect();
  }

  /** Whether the LISTEN connection is up. */
  get listening(): boolean {
    return this.listener !== null;
  }

  resolve(model: string, alias: string): ModelVersion | null | Promise<ModelVersion | null> {
    const aliases = this.models.get(model);
    if (aliases) return aliases.get(alias) ?? null;
    return this.refresh(model).then(() => this.models.get(model)?.get(alias) ?? null);
  }

  peek(model: string, alias: string): AliasedVersion | null {
    return this.models.get(model)?.get(alias) ?? null;
  }

  isAliased(model: string, versionId: number): boolean {
    const aliases = this.models.get(model);
    if (!aliases) return false;
    for (const v of aliases.values()) if (v.id === versionId) return true;
    return false;
  }

  /** Reads the model's aliases again (one at a time per model; a call during a read gets one more read). */
  refresh(model: string): Promise<void> {
    const running = this.refreshing.get(model);
    if (running) {
      this.again.add(model);
      return running;
    }
    const done = (async () => {
      try {
        do {
          this.again.delete(model);
          await this.load([model]);
        } while (this.again.has(model) && !this.closed);
      } finally {
        this.refreshing.delete(model);
      }
    })();
    this.refreshing.set(model, done);
    return done;
  }

  /** Reads every cached model again in one query. */
  async resync(why: string): Promise<void> {
    if (this.closed || this.models.size === 0) return;
    this.stats.resyncs++;
    await this.load([...this.models.keys()]).catch((err: Error) => this.log.warn({ component: 'alias-cache', why, err: err.message }, 'alias resync failed; serving the aliases known so far'));
  }

  private async load(models: string[]): Promise<void> {
    const started = new Map(models.map((m) => [m, this.generations.get(m) ?? 0]));
    const read = await this.registry.aliasesOf(models);
    this.stats.loads++;
    await Promise.all(
      models.map(async (model) => {
        const next = read.get(model) ?? new Map<string, AliasedVersion>();
        const before = this.models.get(model);
        const added = [...next.values()].filter((v) => ![...(before?.values() ?? [])].some((b) => b.id === v.id));
        // Load what the moved aliases point at before anyone is sent there.
        if (this.prepare && added.length) {
          await Promise.all(added.map((v) => this.prepare!(v).catch((err: Error) => this.log.error({ component: 'alias-cache', model, version: v.version, err: err.message }, 'the new version of an alias failed to load'))));
        }
        if ((this.generations.get(model) ?? 0) !== started.get(model)) return; // a newer notification reads it again
        if (!this.models.has(model) && this.models.size >= (this.options.maxModels ?? 10_000)) this.models.clear();
        this.models.set(model, next);
        for (const v of added) if ([...(before?.values() ?? [])].length) this.log.info({ component: 'alias-cache', model, version: v.version }, 'alias moved');
      }),
    );
  }

  private notified(model: string): void {
    this.stats.notifications++;
    if (!this.models.has(model) && !this.refreshing.has(model)) return; // not served here: read on first use
    this.generations.set(model, (this.generations.get(model) ?? 0) + 1);
    this.refresh(model).catch((err: Error) => this.log.warn({ component: 'alias-cache', model, err: err.message }, 'reading a moved alias failed; the next resync retries'));
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, keepAlive: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    let lost = false;
    const onLost = (why: string) => {
      if (lost) return;
      lost = true;
      if (this.listener === client) this.listener = null;
      client.end().catch(() => {});
      if (this.closed) return;
      this.log.warn({ component: 'alias-cache', why, retryMs: this.reconnectDelay }, 'alias notifications lost; listening again soon');
      this.reconnectTimer = setTimeout(() => void this.connect(), this.reconnectDelay);
      this.reconnectTimer.unref();
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, 5_000);
    };
    client.on('error', (err) => onLost(err.message));
    client.on('end', () => onLost('connection ended'));
    client.on('notification', (msg) => {
      if (msg.channel === ALIAS_CHANNEL && msg.payload) this.notified(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${ALIAS_CHANNEL}`);
    } catch (err) {
      onLost((err as Error).message);
      return;
    }
    if (this.closed) return void client.end().catch(() => {});
    this.listener = client;
    this.stats.connects++;
    this.reconnectDelay = this.options.reconnectMs ?? 250;
    // Notifications sent while nobody listened are gone: read what is cached again.
    await this.resync('listening');
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.resyncTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = null;
    await listener?.end().catch(() => {});
  }
}
