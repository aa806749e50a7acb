/** Platform-neutral attachment pieces (docs/attachments.md). */
export * from './format.js';
export { ChunkCipher, deriveChunkKey, chunkNonce, chunkAad } from './chunk-crypto.js';
export * from './reference.js';
export { blobBytes, BlobDecryptor, type RandomAccessSource, type IncrementalHash } from './stream.js';
export { describeAttachment, blobBaseUrlFor, formatBytes } from './messages.js';
export type { TransferOptions, TransferProgress } from './transfer.js';
export { contentTypeFor } from './content-type.js';
