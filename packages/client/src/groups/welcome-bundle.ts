/**
 * The welcome of a big group as ONE encrypted blob (docs/protocol.md §12.11).
 *
 * A newcomer needs the roster and the card of every member (how to reach it). Sent inline, each
 * of n newcomers gets all n cards and the roster: creating a group of 1,000 seals ~200 MB, quadratic
 * in its size. Instead the admin encrypts roster + cards once as an attachment (the attachment
 * format and upload: ../attachments/), uploads it to its relay's blob store, and seals each
 * newcomer only the reference (url, size, SHA-256, key; payload `welcome_ref`): linear.
 *
 * Security: the reference travels in the pairwise session of the admin that sent it, and the
 * download verifies every chunk and the SHA-256 it names, so the relay cannot alter (or read)
 * the bundle; the newcomer applies it exactly like an inline welcome from that admin.
 *
 * Bundle = version(u8)=1 || roster (u32 len ≤ MAX_GROUP_STATE_BYTES) || count(u16 ≤ MAX_GROUP_MEMBERS) || card*
 */
import { MAX_GROUP_MEMBERS, Reader, Writer } from '@pigeon/protocol';
import type { CryptoBackend } from '@pigeon/crypto';
import { ClientError } from '../errors.js';
import { uploadBlobForMessage, type Uploader } from '../attachments/client-transfer.js';
import { downloadAttachmentToMemory, type BlobLike } from '../attachments/memory-transfer.js';
import type { AttachmentReference } from '../attachments/reference.js';
import { MAX_CARD_BYTES, MAX_GROUP_STATE_BYTES, readCard, writeCard, type MemberCard } from './payload.js';

export const WELCOME_BUNDLE_VERSION = 1;

/**
 * A welcome goes inline while the cards it copies to all newcomers together stay below this
 * (≈ 130 KB of cards), and always for a single newcomer: a blob then saves nothing (one upload
 * of the same bytes instead of one sealed copy) and would cost the newcomer a round trip. So
 * adding one member is inline whatever the group's size; creating a group of 30 (29 × 30 cards)
 * is inline; creating or growing by several members a group of 100 or more goes by blob.
 */
export const INLINE_WELCOME_MAX_CARDS = 1_000;

/** Largest bundle a newcomer downloads (the largest roster and 1,000 largest cards). */
export const MAX_WELCOME_BUNDLE_BYTES = 1 + 4 + MAX_GROUP_STATE_BYTES + 2 + MAX_GROUP_MEMBERS * MAX_CARD_BYTES;

/**
 * Attempts per transfer before giving up. Both run inside the client's serial queue (the upload
 * in a group change, the download in the receive hook), so they are kept short: an upload that
 * fails falls back to the inline welcome, a download that fails asks the admin for it.
 */
export const WELCOME_BLOB_MAX_RETRIES = 3;
/** A blob connection that moves nothing for this long is dropped (and retried). */
export const WELCOME_BLOB_IDLE_TIMEOUT_MS = 15_000;

export interface WelcomeBundle {
  /** The encoded roster the newcomer joins from (as a `welcome` carries it). */
  readonly roster: Uint8Array;
  readonly cards: readonly MemberCard[];
}

/** The threshold in use (tests lower it to take the blob path with a handful of clients). */
export const welcomeThreshold = { inlineMaxCards: INLINE_WELCOME_MAX_CARDS };

/** Blob or inline: see INLINE_WELCOME_MAX_CARDS. */
export function welcomeByBlob(newcomers: number, members: number): boolean {
  return newcomers >= 2 && newcomers * members >= welcomeThreshold.inlineMaxCards;
}

export function encodeWelcomeBundle(bundle: WelcomeBundle): Uint8Array {
  if (bundle.cards.length > MAX_GROUP_MEMBERS) throw new ClientError('BAD_ARGUMENT', 'more cards than members');
  try {
    const w = new Writer(4096).u8(WELCOME_BUNDLE_VERSION).bytes(bundle.roster, MAX_GROUP_STATE_BYTES).u16(bundle.cards.length);
    for (const c of bundle.cards) writeCard(w, c);
    return w.finish();
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', 'welcome bundle does not fit its limits', { cause });
  }
}

/** Throws ClientError BAD_ARGUMENT on anything malformed. */
export function decodeWelcomeBundle(bytes: Uint8Array): WelcomeBundle {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== WELCOME_BUNDLE_VERSION) throw new ClientError('BAD_ARGUMENT', `unknown welcome bundle version ${version}`);
    const roster = r.bytes(MAX_GROUP_STATE_BYTES).slice();
    const count = r.u16();
    if (count > MAX_GROUP_MEMBERS) throw new ClientError('BAD_ARGUMENT', 'more cards than members');
    const cards: MemberCard[] = [];
    for (let i = 0; i < count; i++) cards.push(readCard(r));
    r.end();
    return { roster, cards };
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'malformed welcome bundle', { cause });
  }
}

function bytesAsBlob(bytes: Uint8Array): BlobLike {
  return {
    size: bytes.length,
    slice: (start, end) => ({ arrayBuffer: async () => bytes.slice(start, end).buffer }),
  };
}

/** Encrypts (fresh key) and uploads the bundle to our relay's blob store: the attachment upload, unnamed. */
export async function uploadWelcomeBundle(uploader: Uploader, bundle: Uint8Array): Promise<AttachmentReference> {
  const { reference } = await uploadBlobForMessage(uploader, bytesAsBlob(bundle), {
    fileName: '',
    contentType: '',
    maxRetries: WELCOME_BLOB_MAX_RETRIES,
    idleTimeoutMs: WELCOME_BLOB_IDLE_TIMEOUT_MS,
  });
  return reference;
}

/**
 * The verified plaintext (the attachment download into memory), or a typed error:
 * ATTACHMENT_TOO_LARGE above MAX_WELCOME_BUNDLE_BYTES, ATTACHMENT_TAMPERED, RELAY_REJECTED (gone),
 * RELAY_UNREACHABLE.
 */
export function downloadWelcomeBundle(crypto: CryptoBackend, reference: AttachmentReference): Promise<Uint8Array> {
  return downloadAttachmentToMemory({
    crypto,
    reference,
    maxBytes: MAX_WELCOME_BUNDLE_BYTES,
    maxRetries: WELCOME_BLOB_MAX_RETRIES,
    idleTimeoutMs: WELCOME_BLOB_IDLE_TIMEOUT_MS,
  });
}
