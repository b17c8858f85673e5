import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { parse } from 'yaml';
import { parseTokenSpec } from '../../src/auth/apiTokens';
import { ConfigSchema } from '../../src/config';

/**
 * Static checks of docker-compose.yml against the app's configuration (src/config.ts), so the two
 * cannot drift apart unnoticed: the app reads only ConfigSchema's keys and silently ignores others.
 * Nothing here runs Docker.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const composeText = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
const envExampleText = fs.readFileSync(path.join(root, '.env.example'), 'utf8');

type Env = Record<string, string>;
interface Service {
  build?: unknown;
  command?: string[] | string;
  environment?: Env | string[];
  volumes?: (string | { type?: string; source?: string; target?: string; read_only?: boolean })[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const APP_SERVICES = ['worker', 'api'] as const;
const configKeys = new Set(Object.keys(ConfigSchema.shape));
/**
 * Variables the app services take from .env that are not app variables themselves: the registry's
 * database password (interpolated into DATABASE_URL) and the host directory of datasets (a mount).
 */
const COMPOSE_LEVEL = new Set(['LIFECYCLE_DB_PASSWORD', 'DATASETS_DIR', 'LIFECYCLE_S3_ACCESS_KEY_ID', 'LIFECYCLE_S3_SECRET_ACCESS_KEY']);
// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}; `$${` is an escaped literal.
const SUBSTITUTION = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g;

function loadCompose(text: string): Compose {
  // Compose files use YAML merge keys (`<<: *anchor`) to share the app services' settings.
  return parse(text, { merge: true }) as Compose;
}

function environmentOf(service: Service): Env {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));
  return Object.fromEntries(env.map((entry) => {
    const i = entry.indexOf('=');
    return i < 0 ? [entry, ''] : [entry.slice(0, i), entry.slice(i + 1)];
  }));
}

function substitutions(value: string): { name: string; op?: string; arg?: string }[] {
  return [...value.matchAll(SUBSTITUTION)].map((m) => ({ name: m[1], op: m[2], arg: m[3] }));
}

/** The value compose would hand the container, with every required or unset variable replaced by `placeholder`. */
function interpolate(value: string, placeholder: string): string {
  return value.replace(SUBSTITUTION, (_all, _name, op?: string, arg?: string) => (op?.endsWith('-') ? (arg ?? '') : placeholder));
}

function documentedVariables(envExample: string): Set<string> {
  return new Set(envExample.split('\n').map((l) => /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(l.trim())?.[1]).filter((n): n is string => !!n));
}

/** Problems with the app services' configuration; empty when all is well. */
function configProblems(compose: Compose, envExample: string): string[] {
  const problems: string[] = [];
  const documented = documentedVariables(envExample);
  for (const name of APP_SERVICES) {
    const service = compose.services[name];
    if (!service) {
      problems.push(`service ${name} is missing`);
      continue;
    }
    const env = environmentOf(service);
    for (const [key, value] of Object.entries(env)) {
      if (!configKeys.has(key)) problems.push(`${name}: ${key} is not a variable the app reads (ConfigSchema in src/config.ts)`);
      for (const sub of substitutions(value)) {
        if (configKeys.has(sub.name) && sub.name !== key) problems.push(`${name}: ${key} is set from \${${sub.name}}, another app variable`);
      }
    }
    // Every ${VAR} anywhere in an app service is an app variable, or one of the few compose-level ones.
    for (const sub of substitutions(JSON.stringify(service))) {
      if (!configKeys.has(sub.name) && !COMPOSE_LEVEL.has(sub.name)) problems.push(`${name}: \${${sub.name}} is neither an app variable (ConfigSchema) nor a known compose-level one`);
      if (!documented.has(sub.name)) problems.push(`${name}: \${${sub.name}} is not documented in .env.example`);
    }
    for (const key of ['TEMPORAL_ADDRESS', 'DATABASE_URL', 'APPROVAL_SECRET', 'DATA_DIR']) {
      if (!env[key]) problems.push(`${name}: ${key} must be set (the production entry points require it)`);
    }
    // What the container would see, secrets replaced by a valid-looking placeholder, must satisfy ConfigSchema.
    const resolved = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, 'x'.repeat(40))]));
    const parsed = ConfigSchema.safeParse(resolved);
    if (!parsed.success) problems.push(`${name}: ConfigSchema rejects the environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const api = compose.services.api ? environmentOf(compose.services.api) : {};
  if (!api.API_TOKENS) problems.push('api: API_TOKENS must be set');
  if (api.API_HOST !== '0.0.0.0') problems.push(`api: API_HOST must be 0.0.0.0 in a container (is ${api.API_HOST ?? 'unset'})`);
  return problems;
}

function mountsOf(service: Service): { source: string; target: string; readOnly: boolean; named: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    if (typeof v === 'string') {
      const [source, target, mode] = v.split(':');
      return { source, target: target ?? source, readOnly: mode?.split(',').includes('ro') ?? false, named: !/^[./~$]/.test(source) };
    }
    return { source: v.source ?? '', target: v.target ?? '', readOnly: !!v.read_only, named: (v.type ?? 'volume') === 'volume' };
  });
}

/** Problems with the data volume the worker and api must share; empty when all is well. */
function sharedVolumeProblems(compose: Compose): string[] {
  const problems: string[] = [];
  const dataMounts = APP_SERVICES.map((name) => {
    const service = compose.services[name];
    const dataDir = service ? environmentOf(service).DATA_DIR : undefined;
    const mount = service && dataDir ? mountsOf(service).find((m) => m.target === dataDir) : undefined;
    if (!dataDir) problems.push(`${name}: DATA_DIR is not set`);
    else if (!mount) problems.push(`${name}: nothing is mounted at DATA_DIR (${dataDir})`);
    else {
      if (!mount.named) problems.push(`${name}: DATA_DIR is a bind mount (${mount.source}), not a named volume`);
      if (mount.readOnly) problems.push(`${name}: DATA_DIR is mounted read-only`);
      if (mount.named && !(compose.volumes && mount.source in compose.volumes)) problems.push(`${name}: volume ${mount.source} is not declared under top-level volumes`);
    }
    return { name, dataDir, source: mount?.source };
  });
  const [worker, api] = dataMounts;
  if (worker.source && api.source && worker.source !== api.source) problems.push(`worker mounts ${worker.source} at DATA_DIR but api mounts ${api.source}`);
  // Artifact URIs are absolute file:// paths: the same volume must sit at the same path in both.
  if (worker.dataDir && api.dataDir && worker.dataDir !== api.dataDir) problems.push(`DATA_DIR differs: worker ${worker.dataDir}, api ${api.dataDir}`);
  return problems;
}

describe('docker-compose.yml', () => {
  const compose = loadCompose(composeText);

  it('gives the app services only variables the app knows, documented where they come from .env', () => {
    expect(configProblems(compose, envExampleText)).toEqual([]);
  });

  it('lets the worker and the api share one named data volume at DATA_DIR', () => {
    expect(sharedVolumeProblems(compose)).toEqual([]);
  });

  it('gives the worker and the api the same database, Temporal endpoint and approval secret', () => {
    const worker = environmentOf(compose.services.worker);
    const api = environmentOf(compose.services.api);
    for (const key of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TASK_QUEUE', 'APPROVAL_SECRET', 'DATA_DIR']) {
      expect(api[key], key).toBe(worker[key]);
    }
  });

  it('takes every secret from the environment and documents every variable in .env.example', () => {
    const documented = documentedVariables(envExampleText);
    // Parsed, not raw text: compose interpolates values (extension fields included), never comments.
    const used = substitutions(JSON.stringify(compose));
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((s) => !documented.has(s.name)).map((s) => s.name)).toEqual([]);
    // Secrets are required (`:?`), never given a default that would be committed in the file.
    for (const secret of ['POSTGRES_PASSWORD', 'TEMPORAL_DB_PASSWORD', 'LIFECYCLE_DB_PASSWORD', 'APPROVAL_SECRET', 'API_TOKENS', 'MINIO_ROOT_PASSWORD', 'LIFECYCLE_S3_SECRET_ACCESS_KEY']) {
      const uses = used.filter((s) => s.name === secret);
      expect(uses.length, secret).toBeGreaterThan(0);
      for (const use of uses) expect(use.op, secret).toBe(':?');
    }
  });

  it('runs the api entry point that exists, with the image default running the worker', () => {
    const command = compose.services.api.command;
    const args = Array.isArray(command) ? command : String(command).split(/\s+/);
    expect(args.at(-1)).toBe('src/api/main.ts');
    expect(fs.existsSync(path.join(root, 'src/api/main.ts'))).toBe(true);
    expect(compose.services.worker.command).toBeUndefined();
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^CMD \[.*"src\/workers\/main\.ts"\]$/m);
    expect(fs.existsSync(path.join(root, 'src/workers/main.ts'))).toBe(true);
  });
});

describe('.env.example', () => {
  it('describes API_TOKENS in the format the API parses', () => {
    const example = /^#\s+API_TOKENS=(\S+)$/m.exec(envExampleText)?.[1];
    expect(example).toBeDefined();
    let n = 0;
    const tokens = parseTokenSpec(example!.replaceAll('<random>', () => `random-token-${n++}-${'r'.repeat(16)}`));
    expect(tokens.map((t) => t.role)).toEqual(['engineer', 'approver', 'viewer']);
  });
});

describe('the compose checks themselves', () => {
  // Each check must be able to fail: break a copy of the real file and expect it to be caught.
  const mutate = (edit: (c: Compose) => void): Compose => {
    const c = loadCompose(composeText);
    edit(c);
    return c;
  };

  it('catches a variable the app does not read', () => {
    const c = mutate((c) => {
      (c.services.worker.environment as Env).S3_BUCKET = 'lifecycle';
    });
    expect(configProblems(c, envExampleText)).toEqual([expect.stringContaining('worker: S3_BUCKET is not a variable the app reads')]);
  });

  it('catches an undocumented substitution and a value ConfigSchema rejects', () => {
    const c = mutate((c) => {
      const env = c.services.api.environment as Env;
      env.LOG_LEVEL = '${LOGLEVEL:-loud}';
    });
    const problems = configProblems(c, envExampleText);
    expect(problems).toContainEqual('api: ${LOGLEVEL} is neither an app variable (ConfigSchema) nor a known compose-level one');
    expect(problems).toContainEqual('api: ${LOGLEVEL} is not documented in .env.example');
    expect(problems).toContainEqual(expect.stringContaining('api: ConfigSchema rejects the environment: LOG_LEVEL'));
  });

  it('catches the api losing the shared data volume', () => {
    const c = mutate((c) => {
      c.services.api.volumes = ['./artifacts:/data'];
    });
    expect(sharedVolumeProblems(c)).toEqual([
      'api: DATA_DIR is a bind mount (./artifacts), not a named volume',
      'worker mounts lifecycle-data at DATA_DIR but api mounts ./artifacts',
    ]);
  });

  it('catches DATA_DIR pointing away from the mount', () => {
    const c = mutate((c) => {
      (c.services.worker.environment as Env).DATA_DIR = '/var/lib/lifecycle';
    });
    expect(sharedVolumeProblems(c)).toEqual(['worker: nothing is mounted at DATA_DIR (/var/lib/lifecycle)', 'DATA_DIR differs: worker /var/lib/lifecycle, api /data']);
  });
});
