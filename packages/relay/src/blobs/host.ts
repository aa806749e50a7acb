/**
 * Wires the blob store into a relay: files in `<dataDir>/blobs/`, metadata in
 * `<dataDir>/blobs.sqlite`; without a data dir (tests, throwaway relays) a temporary
 * directory that is removed on close and an in-memory database. A relay on PostgreSQL keeps
 * records and bytes there instead (postgres-blob-store.ts), so every node of a cluster serves
 * every blob.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBlobPath } from '@pigeon/api';
import type { CryptoBackend } from '@pigeon/crypto';
import type { RelayLogger } from '../logger.js';
import type { RelayClock } from '../options.js';
import type { StoredDevice } from '../store/types.js';
import type pg from 'pg';
import type { BlobBytes } from './bytes.js';
import { BlobFiles } from './files.js';
import { resolveBlobLimits, validateBlobPath, type BlobOptions } from './options.js';
import { createBlobService, type BlobService } from './service.js';
import { PostgresBlobBytes, PostgresBlobStore } from './postgres-blob-store.js';
import { openSqliteBlobStore } from './sqlite-blob-store.js';
import type { BlobStore } from './types.js';

export const BLOB_DIR_NAME = 'blobs';

export interface BlobHost {
  readonly service: BlobService;
  readonly store: BlobStore;
  readonly files: BlobBytes;
  close(): Promise<void>;
}

export interface BlobHostOptions {
  readonly dataDir?: string;
  readonly durability?: 'full' | 'normal';
  readonly wsPath: string;
  readonly blobs?: BlobOptions;
  readonly devices: { getDevice(deviceId: Uint8Array): Promise<StoredDevice | undefined> };
  readonly crypto: CryptoBackend;
  readonly clock: RelayClock;
  readonly logger: RelayLogger;
  /** The PostgreSQL store's pool for blobs: records and bytes go there (a cluster). */
  readonly postgres?: () => pg.Pool;
}

/** A relay store that keeps a cluster's blobs (the PostgreSQL store). */
export function hasBlobPool(store: object): store is { blobPool(): pg.Pool } {
  return typeof (store as { blobPool?: unknown }).blobPool === 'function';
}

export async function openBlobHost(options: BlobHostOptions): Promise<BlobHost> {
  const limits = resolveBlobLimits(options.blobs?.limits);
  const basePath = validateBlobPath(options.blobs?.path ?? defaultBlobPath(options.wsPath));
  const postgres = options.postgres;
  const temporary = postgres === undefined && options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'pigeon-blobs-')) : undefined;
  const files: BlobBytes = postgres ? new PostgresBlobBytes(postgres) : new BlobFiles(temporary ?? join(options.dataDir!, BLOB_DIR_NAME));
  await files.init();
  const store: BlobStore = postgres ? new PostgresBlobStore(postgres) : openSqliteBlobStore({ dataDir: options.dataDir, durability: options.durability });
  const service = createBlobService({ basePath, files, store, devices: options.devices, crypto: options.crypto, clock: options.clock, limits, logger: options.logger });
  await service.removeOrphans();
  return {
    service,
    store,
    files,
    async close() {
      await service.close();
      await store.close();
      if (temporary !== undefined) await rm(temporary, { recursive: true, force: true });
    },
  };
}
