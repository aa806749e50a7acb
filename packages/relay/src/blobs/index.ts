/** The relay's blob store (docs/relay-api.md, "Blobs"). */
export { DEFAULT_BLOB_LIMITS, resolveBlobLimits, type BlobLimits, type BlobOptions } from './options.js';
export type { BlobRecord, BlobState, BlobStore, BlobQuota, BlobUsage, CreateUploadResult } from './types.js';
export { openSqliteBlobStore, migrateBlobSqlite, SqliteBlobStore, BLOB_SQLITE_FILE_NAME } from './sqlite-blob-store.js';
export { BLOB_MIGRATIONS, LATEST_BLOB_SCHEMA_VERSION } from './sqlite-blob-migrations.js';
export { createBlobService, BLOB_SWEEP_BATCH, type BlobService, type BlobServiceDeps } from './service.js';
export { openBlobHost, BLOB_DIR_NAME, type BlobHost, type BlobHostOptions } from './host.js';
export { BlobFiles } from './files.js';
export { parseRange, type ByteRange } from './range.js';
