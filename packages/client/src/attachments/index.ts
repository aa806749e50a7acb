/** Platform-neutral attachment pieces (docs/attachments.md). */
export * from './format.js';
export { ChunkCipher, deriveChunkKey, chunkNonce, chunkAad } from './chunk-crypto.js';
export * from './reference.js';
export { blobBytes, BlobDecryptor, type RandomAccessSource, type IncrementalHash } from './stream.js';
export { describeAttachment, blobBaseUrlFor, formatBytes } from './messages.js';
export type { TransferOptions, TransferProgress } from './transfer.js';
export { contentTypeFor } from './content-type.js';
export { TransportError, type BlobTransport, type CreatedUpload } from './blob-transport.js';
export { uploadBlob, UPLOAD_SEGMENT_BYTES, type UploadBlobOptions, type UploadResult, type UploadSigner } from './upload.js';
export { downloadBlob, DOWNLOAD_RANGE_BYTES, type DownloadBlobOptions } from './download.js';
export { FetchBlobClient, FETCH_IDLE_TIMEOUT_MS, MIN_UPLOAD_BYTES_PER_SECOND, type FetchBlobClientOptions } from './fetch-blob-client.js';
export {
  uploadAttachmentBlob,
  downloadAttachmentToMemory,
  blobSource,
  MAX_IN_MEMORY_DOWNLOAD_BYTES,
  FETCH_UPLOAD_SEGMENT_BYTES,
  type BlobLike,
  type BlobUploadOptions,
  type MemoryDownloadOptions,
} from './memory-transfer.js';
export { downloadAttachmentToSink, FETCH_DOWNLOAD_RANGE_BYTES, type AttachmentSink, type SinkDownloadOptions } from './sink-download.js';
export type { SendAttachmentBlobOptions, DownloadAttachmentBytesOptions, DownloadAttachmentToOptions } from './client-transfer.js';
