/**
 * The blob (attachment) HTTP contract between client and relay: paths, headers, limits, error
 * codes and the signed "create upload" message. Normative text: docs/relay-api.md, "Blobs".
 *
 * Blobs are opaque ciphertext to the relay; the client encrypts, pads and hashes them
 * (packages/client/src/attachments). Everything here is platform-neutral.
 */
/** Largest blob the relay accepts: 2 GiB of attachment plus chunk tags plus the largest padding bucket step (5 %), rounded up to 2.125 GiB. */
export const MAX_BLOB_BYTES = 2 * 1024 * 1024 * 1024 + 128 * 1024 * 1024;
/** Blob ids are 16 random bytes, hex in URLs (unguessable: knowing one is the capability to download). */
export const BLOB_ID_BYTES = 16;
/** Upload secrets are 32 random bytes, base64url in the upload URL (the capability to write, finalize and delete). */
export const UPLOAD_SECRET_BYTES = 32;
/** Random nonce in a create request, so two identical requests in one second differ and a replay is recognised. */
export const BLOB_CREATE_NONCE_BYTES = 16;
/** A create request's timestamp may differ from the relay's clock by at most this much. */
export const MAX_BLOB_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Largest JSON body of a create or finalize request. */
export const MAX_BLOB_JSON_BYTES = 1024;
/** Sub-path of the blob endpoints under the WebSocket path (default `${wsPath}/blobs`). */
export const BLOB_PATH_SUFFIX = '/blobs';

/** Request/response headers (lower case, as Node reports them). */
export const BLOB_HEADERS = {
  /** `Pigeon-Device <deviceId hex>.<timestamp ms>.<nonce b64url>.<signature b64url>` on create. */
  authorization: 'authorization',
  /** Byte offset a PATCH starts at; in HEAD/PATCH replies the committed length. */
  offset: 'upload-offset',
  /** Declared blob size (HEAD replies). */
  length: 'upload-length',
  /** Error code of a refused request (also in the JSON body). */
  error: 'pigeon-error',
} as const;

export const BLOB_AUTH_SCHEME = 'Pigeon-Device';

/** Error codes of the blob endpoints (HTTP status in BLOB_ERROR_STATUS); append-only. */
export const BLOB_ERROR_CODES = [
  'BAD_REQUEST', // malformed path, header or body
  'UNAUTHORIZED', // missing/bad create signature, unknown device, stale timestamp, replayed nonce
  'NOT_FOUND', // unknown, expired or deleted blob / upload
  'TOO_LARGE', // declared size above MAX_BLOB_BYTES, or a PATCH past the declared size
  'QUOTA_EXCEEDED', // the account's stored + reserved bytes would exceed its quota
  'TOO_MANY_UPLOADS', // the account already has maxConcurrentUploads unfinished uploads
  'OFFSET_MISMATCH', // PATCH offset != committed length (upload-offset header says where to continue)
  'INCOMPLETE', // finalize before every byte was committed
  'DIGEST_MISMATCH', // finalize: SHA-256 of the stored bytes differs; the upload is deleted
  'ALREADY_FINALIZED', // PATCH/finalize of a finished blob
  'RANGE_NOT_SATISFIABLE', // bad, multiple or out-of-bounds Range
  'INTERNAL', // the relay failed; retry later
] as const;
export type BlobErrorCode = (typeof BLOB_ERROR_CODES)[number];

export const BLOB_ERROR_STATUS: Readonly<Record<BlobErrorCode, number>> = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  QUOTA_EXCEEDED: 507,
  TOO_MANY_UPLOADS: 429,
  OFFSET_MISMATCH: 409,
  INCOMPLETE: 409,
  DIGEST_MISMATCH: 422,
  ALREADY_FINALIZED: 409,
  RANGE_NOT_SATISFIABLE: 416,
  INTERNAL: 500,
};

/** A refused blob request, as the client SDK sees it (code from the reply), or bad arguments to the helpers here. */
export class BlobError extends Error {
  override readonly name = 'BlobError';
  constructor(
    readonly code: BlobErrorCode,
    message: string,
    options?: { cause?: unknown; readonly offset?: number },
  ) {
    super(message, options);
    this.offset = options?.offset;
  }
  /** OFFSET_MISMATCH: the relay's committed length. */
  readonly offset: number | undefined;
}

export function isBlobErrorCode(value: unknown): value is BlobErrorCode {
  return typeof value === 'string' && (BLOB_ERROR_CODES as readonly string[]).includes(value);
}

/** Reply of POST {base}/uploads. */
export interface CreateUploadReply {
  readonly blobId: string;
  /** Absolute path of the upload resource (carries the upload secret; keep it private). */
  readonly uploadPath: string;
  /** Absolute path the blob is downloaded from once finalized. */
  readonly downloadPath: string;
  /** ms since the epoch after which an unfinished upload is deleted. */
  readonly expiresAt: number;
}

/** Reply of POST {uploadPath} (finalize). */
export interface FinalizeReply {
  readonly blobId: string;
  readonly size: number;
  /** hex SHA-256 of the stored bytes */
  readonly sha256: string;
  /** ms since the epoch after which the blob is deleted */
  readonly expiresAt: number;
}

const DOMAIN = 'pigeon/blob-create/v1';

/**
 * What a device signs (Ed25519, device signing key) to create an upload of `size` bytes:
 * domain || 0x00 || deviceId(16) || timestamp u64 || nonce(16) || size u64, big-endian.
 * The domain keeps it from ever being a valid signature for anything else (auth challenges,
 * prekeys).
 */
export function blobCreateMessage(deviceId: Uint8Array, timestampMs: number, nonce: Uint8Array, size: number): Uint8Array {
  if (deviceId.length !== 16 || nonce.length !== BLOB_CREATE_NONCE_BYTES || !Number.isSafeInteger(timestampMs) || timestampMs < 0 || !Number.isSafeInteger(size) || size < 0) throw new BlobError('BAD_REQUEST', 'bad blob create fields');
  const domain = new TextEncoder().encode(DOMAIN);
  const out = new Uint8Array(domain.length + 1 + 16 + 8 + BLOB_CREATE_NONCE_BYTES + 8);
  const view = new DataView(out.buffer);
  out.set(domain, 0);
  let at = domain.length + 1;
  out.set(deviceId, at);
  at += 16;
  view.setBigUint64(at, BigInt(timestampMs));
  at += 8;
  out.set(nonce, at);
  at += BLOB_CREATE_NONCE_BYTES;
  view.setBigUint64(at, BigInt(size));
  return out;
}

/** `/pigeon` -> `/pigeon/blobs` (the default blob path of a relay with that WebSocket path). */
export function defaultBlobPath(wsPath: string): string {
  return wsPath.replace(/\/+$/, '') + BLOB_PATH_SUFFIX;
}
