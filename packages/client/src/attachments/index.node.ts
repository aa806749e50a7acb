/** Node file transfer of attachments. */
export { uploadAttachmentFile, UPLOAD_SEGMENT_BYTES, type UploadOptions, type UploadResult, type UploadSigner } from './upload.node.js';
export { downloadAttachmentFile, DOWNLOAD_RANGE_BYTES, type DownloadOptions } from './download.node.js';
export { BlobHttpClient, getRange, BLOB_IDLE_TIMEOUT_MS } from './blob-client.node.js';
export type { SendAttachmentOptions, DownloadAttachmentOptions } from './client-transfer.node.js';
