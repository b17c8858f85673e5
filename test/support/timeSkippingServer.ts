import fs from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { lifecycleCacheDir } from '../../src/infra/temporalCli';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/searchAttributes';
import { run } from './schemathesis';

/**
 * Temporal's time-skipping test server, for tests of the workflow's timing (approval timeouts): a
 * week passes in milliseconds. The SDK downloads a native build of it from the internet, which our
 * machines cannot reach; the same server ships on Maven Central as a Java program
 * (io.temporal:temporal-test-server), so it is fetched once with Maven into the project cache and
 * started through a small wrapper that takes the SDK's arguments (`<port> --enable-time-skipping`).
 */
export const TEST_SERVER_VERSION = '1.31.0';

export async function ensureTimeSkippingServer(log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<string> {
  const dir = path.join(lifecycleCacheDir(), `temporal-test-server-${TEST_SERVER_VERSION}`);
  const wrapper = path.join(dir, 'temporal-test-server');
  const marker = path.join(dir, '.installed');
  if (await fs.access(marker).then(() => true, () => false)) return wrapper;
  log(`temporal-test-server ${TEST_SERVER_VERSION}: fetching with Maven into ${dir} (once)`);
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>lifecycle</groupId><artifactId>test-server</artifactId><version>1</version>
  <dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency></dependencies>
</project>\n`,
  );
  await run('mvn', ['-q', '-B', 'dependency:copy-dependencies', '-DoutputDirectory=lib'], { cwd: dir, timeoutMs: 10 * 60_000 });
  await fs.writeFile(wrapper, `#!/bin/sh\nexec java -cp "${path.join(dir, 'lib')}/*" io.temporal.testserver.TestServer "$@"\n`, { mode: 0o755 });
  await fs.writeFile(marker, `${new Date().toISOString()}\n`);
  return wrapper;
}

/**
 * The test server implements adding search attributes but not listing them, so the worker's
 * list-then-add registration cannot be used: add ours directly.
 */
export async function addLifecycleSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { IndexedValueType } = proto.temporal.api.enums.v1;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, IndexedValueType[`INDEXED_VALUE_TYPE_${type.toUpperCase()}` as keyof typeof IndexedValueType]]),
    ),
  });
}
