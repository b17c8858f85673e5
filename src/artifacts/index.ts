import path from 'node:path';
import type { Config } from '../config';
import { endpointLabel, s3Client } from '../data/s3';
import type { Logger } from '../logger';
import { S3ArtifactStore } from './s3Store';
import { LocalArtifactStore, type ArtifactStore } from './store';

export { S3ArtifactStore, ArtifactStoreError } from './s3Store';
export { ArtifactIntegrityError, LocalArtifactStore, type ArtifactKind, type ArtifactRef, type ArtifactStore } from './store';

/**
 * The artifact store the configuration names: S3 for ARTIFACT_STORE=s3://bucket/prefix (with the S3_*
 * settings and a download cache in DATA_DIR/cache), otherwise the local directory DATA_DIR/artifacts.
 */
export function createArtifactStore(config: Config, log?: Logger): ArtifactStore {
  const where = config.artifactStore;
  const store =
    where.kind === 's3'
      ? new S3ArtifactStore({
          client: s3Client(config.s3),
          bucket: where.bucket,
          prefix: where.prefix,
          cacheDir: path.join(config.dataDir, 'cache'),
          endpoint: endpointLabel(config.s3),
        })
      : new LocalArtifactStore(where.dir);
  log?.debug({ location: store.location, ...(where.kind === 's3' ? { endpoint: endpointLabel(config.s3) } : {}) }, 'artifact store');
  return store;
}
