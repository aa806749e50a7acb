/** Node file transfer of attachments (the drivers themselves are platform-neutral: index.ts). */
export { uploadAttachmentFile, type UploadOptions } from './upload.node.js';
export { downloadAttachmentFile, type DownloadOptions } from './download.node.js';
export { BlobHttpClient, getRange, BLOB_IDLE_TIMEOUT_MS } from './blob-client.node.js';
export type { SendAttachmentOptions, DownloadAttachmentOptions } from './client-transfer.node.js';
