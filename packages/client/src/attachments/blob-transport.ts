/**
 * What the transfer drivers (upload.ts, download.ts) need from an HTTP client of the relay's blob
 * endpoints (docs/relay-api.md, "Blobs"). Two implementations: node:http with streamed bodies
 * (blob-client.node.ts) and `fetch` for browsers and any runtime that has it (fetch-blob-client.ts).
 *
 * Contract: a refusal is a BlobError with the relay's code; a dropped, stalled or refused
 * connection is a TransportError (or any other non-ClientError), which the drivers retry.
 */
import { BlobError, type CreateUploadReply, type FinalizeReply } from '@pigeon/api';

export class TransportError extends Error {
  override readonly name = 'TransportError';
}

export interface CreatedUpload extends CreateUploadReply {
  readonly uploadUrl: string;
  readonly downloadUrl: string;
}

export interface BlobTransport {
  /** POST {base}/uploads with a signed authorization. */
  create(authorization: string, size: number): Promise<CreatedUpload>;
  /** HEAD {upload}: the committed length. */
  offset(uploadUrl: string): Promise<{ offset: number; size: number }>;
  /** PATCH {upload} with `length` bytes at `offset`; resolves with the new committed length. */
  patch(uploadUrl: string, offset: number, length: number, body: AsyncIterable<Uint8Array>): Promise<number>;
  finalize(uploadUrl: string, sha256Hex: string): Promise<FinalizeReply>;
  /** GET bytes [from, to) once status and Content-Range check out; the body is the caller's to read. */
  getRange(url: string, from: number, to: number): Promise<AsyncIterable<Uint8Array>>;
}

/** A refused create carries the relay's clock (its Date header), so a skewed client can retry. */
export function relayDateOf(err: unknown): number | null {
  const value = (err as { relayDate?: unknown } | null)?.relayDate;
  return typeof value === 'number' ? value : null;
}

/**
 * Throws the relay's refusal of a create (`refuse` reads it from the reply), stamped with the
 * relay's clock from its Date header for relayDateOf. Both blob clients use it, so a skewed
 * clock is recognised the same way in Node and in a browser.
 */
export async function refuseWithRelayDate(dateHeader: string | null | undefined, refuse: () => Promise<never>): Promise<never> {
  const date = Date.parse(dateHeader ?? '');
  try {
    return await refuse();
  } catch (err) {
    if (err instanceof BlobError) Object.assign(err, { relayDate: Number.isFinite(date) ? date : null });
    throw err;
  }
}

/** Parses `bytes a-b/n` and checks it is exactly [from, to). */
export function contentRangeMatches(header: string | null | undefined, from: number, to: number): boolean {
  const match = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header ?? '');
  return match !== null && Number(match[1]) === from && Number(match[2]) === to - 1;
}

/** `upload-offset` / `upload-length` header value as a safe integer, or null. */
export function headerInteger(value: string | null | undefined): number | null {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}
