/**
 * What travels inside content type `group` (content.ts): the client-level wrapper that tells a
 * group payload from a pairwise one. Sealed sender only knows prekey/whisper messages
 * (docs/protocol.md §7), so the distinction lives here, inside the pairwise ratchet, and the
 * relay sees nothing new (docs/protocol.md §12: everything goes over the pairwise sessions).
 *
 * Layout: [version u8 = GROUP_PAYLOAD_VERSION][kind u8][body]
 *   welcome      roster (u32 len)                          — a member joins from the roster its admin sent
 *   change       change (u32 len)                          — a signed group change (§12.3)
 *   message      groupId(32) || distribution (u32 len, may be empty) || sender-key message (u32 len)
 *   cards        count(u16) || card*                       — how to reach members who are not contacts yet
 *   join_request groupId(32) || secret(16)                 — a holder of a group invite link asks to be added
 *   receipt      read(bool) || count(u16) || id(16)*           — a member got (or read) our group messages (§12.8)
 *   resend       groupId(32) || distributionId(16) || iteration(u32) || epoch(u64)
 *                                                          — a member could not use this copy of our message: send it again (§12.9)
 *   welcome_ref  groupId(32) || epoch(u64) || attachment reference
 *                                                          — a big welcome: roster + every card in ONE encrypted blob (§12.11)
 *   welcome_request groupId(32) || epoch(u64)              — the blob of a welcome_ref could not be used: send the welcome inline (§12.11)
 *
 * Kinds 6 to 9 came later under the same version: an older client drops them as unknown kinds
 * (logged, acked) and keeps working; it simply sends no receipts and never asks for a copy again.
 */
import { GROUP_ID_BYTES, MAX_GROUP_MESSAGE_BYTES, Reader, Writer } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { CONTENT_ID_BYTES, MAX_NAME_BYTES, MAX_RECEIPT_IDS, MAX_URL_BYTES } from '../limits.js';
import { readReference, writeReference, type AttachmentReference } from '../attachments/reference.js';

export const GROUP_PAYLOAD_VERSION = 1;
/** A welcome roster or a change (1,000 members with 10 devices each stay far below). */
export const MAX_GROUP_STATE_BYTES = 200_000;
/** A sender key distribution (157 bytes today; room for a later version). */
export const MAX_DISTRIBUTION_BYTES = 1_024;
/** Member cards per `cards` payload: bigger groups send several, so every payload stays far below MAX_PLAINTEXT_BYTES. */
export const MAX_CARDS_PER_PAYLOAD = 200;
export const GROUP_INVITE_SECRET_BYTES = 16;
/** Delivery tokens of other clients may use any length the relay accepts. */
const MAX_TOKEN_BYTES = 64;
/** Largest encoded card (account key + name + relay URL + token, with their u32 lengths). */
export const MAX_CARD_BYTES = 32 + 4 + MAX_NAME_BYTES + 4 + MAX_URL_BYTES + 4 + MAX_TOKEN_BYTES;

const KIND_WELCOME = 1;
const KIND_CHANGE = 2;
const KIND_MESSAGE = 3;
const KIND_CARDS = 4;
const KIND_JOIN_REQUEST = 5;
const KIND_RECEIPT = 6;
const KIND_RESEND = 7;
const KIND_WELCOME_REF = 8;
const KIND_WELCOME_REQUEST = 9;
/** Bytes of a sender key distribution id (protocol DISTRIBUTION_ID_BYTES). */
export const GROUP_DISTRIBUTION_ID_BYTES = 16;

/** Enough to reach a member (and accept its messages): what an invite link carries for a contact. */
export interface MemberCard {
  readonly accountKey: Uint8Array;
  readonly name: string;
  readonly relayUrl: string;
  readonly deliveryToken: Uint8Array;
}

export type GroupPayload =
  | { readonly kind: 'welcome'; readonly roster: Uint8Array }
  | { readonly kind: 'change'; readonly change: Uint8Array }
  | { readonly kind: 'message'; readonly groupId: Uint8Array; readonly distribution: Uint8Array | null; readonly ciphertext: Uint8Array }
  | { readonly kind: 'cards'; readonly cards: readonly MemberCard[] }
  | { readonly kind: 'join_request'; readonly groupId: Uint8Array; readonly secret: Uint8Array }
  /** Delivery (read = false) or read receipt for group messages of the author we send it to (ids may span groups). */
  | { readonly kind: 'receipt'; readonly read: boolean; readonly ids: readonly Uint8Array[] }
  /** The copy sent under this sender key + iteration was unusable for us at `epoch` (stale or missing key). */
  | { readonly kind: 'resend'; readonly groupId: Uint8Array; readonly distributionId: Uint8Array; readonly iteration: number; readonly epoch: number }
  /** The welcome (roster at `epoch`) and every member's card, in one encrypted blob (welcome-bundle.ts). */
  | { readonly kind: 'welcome_ref'; readonly groupId: Uint8Array; readonly epoch: number; readonly reference: AttachmentReference }
  /** A newcomer could not use the blob of a welcome_ref for this group: the admin sends the welcome inline. */
  | { readonly kind: 'welcome_request'; readonly groupId: Uint8Array; readonly epoch: number };

/** One member card (shared by `cards` payloads and welcome bundles). */
export function writeCard(w: Writer, c: MemberCard): Writer {
  return w.fixed(c.accountKey, 32).string(c.name, MAX_NAME_BYTES).string(c.relayUrl, MAX_URL_BYTES).bytes(c.deliveryToken, MAX_TOKEN_BYTES);
}

export function readCard(r: Reader): MemberCard {
  return { accountKey: r.fixed(32).slice(), name: r.string(MAX_NAME_BYTES), relayUrl: r.string(MAX_URL_BYTES), deliveryToken: r.bytes(MAX_TOKEN_BYTES).slice() };
}

export function encodeGroupPayload(p: GroupPayload): Uint8Array {
  try {
    const w = new Writer(256).u8(GROUP_PAYLOAD_VERSION);
    switch (p.kind) {
      case 'welcome':
        w.u8(KIND_WELCOME).bytes(p.roster, MAX_GROUP_STATE_BYTES);
        break;
      case 'change':
        w.u8(KIND_CHANGE).bytes(p.change, MAX_GROUP_STATE_BYTES);
        break;
      case 'message':
        w.u8(KIND_MESSAGE)
          .fixed(p.groupId, GROUP_ID_BYTES)
          .bytes(p.distribution ?? new Uint8Array(0), MAX_DISTRIBUTION_BYTES)
          .bytes(p.ciphertext, MAX_GROUP_MESSAGE_BYTES);
        break;
      case 'cards':
        if (p.cards.length > MAX_CARDS_PER_PAYLOAD) throw new ClientError('BAD_ARGUMENT', 'too many member cards in one payload');
        w.u8(KIND_CARDS).u16(p.cards.length);
        for (const c of p.cards) writeCard(w, c);
        break;
      case 'join_request':
        w.u8(KIND_JOIN_REQUEST).fixed(p.groupId, GROUP_ID_BYTES).fixed(p.secret, GROUP_INVITE_SECRET_BYTES);
        break;
      case 'receipt':
        if (p.ids.length === 0 || p.ids.length > MAX_RECEIPT_IDS) throw new ClientError('BAD_ARGUMENT', `a group receipt names 1..${MAX_RECEIPT_IDS} messages`);
        w.u8(KIND_RECEIPT).bool(p.read).u16(p.ids.length);
        for (const id of p.ids) w.fixed(id, CONTENT_ID_BYTES);
        break;
      case 'resend':
        w.u8(KIND_RESEND).fixed(p.groupId, GROUP_ID_BYTES).fixed(p.distributionId, GROUP_DISTRIBUTION_ID_BYTES).u32(p.iteration).u64(p.epoch);
        break;
      case 'welcome_ref':
        writeReference(w.u8(KIND_WELCOME_REF).fixed(p.groupId, GROUP_ID_BYTES).u64(p.epoch), p.reference);
        break;
      case 'welcome_request':
        w.u8(KIND_WELCOME_REQUEST).fixed(p.groupId, GROUP_ID_BYTES).u64(p.epoch);
        break;
    }
    return w.finish();
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'group payload does not fit its limits', { cause });
  }
}

/** Throws ClientError BAD_ARGUMENT on anything malformed (the receiver drops it). */
export function decodeGroupPayload(bytes: Uint8Array): GroupPayload {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== GROUP_PAYLOAD_VERSION) throw new ClientError('BAD_ARGUMENT', `unknown group payload version ${version}`);
    const kind = r.u8();
    let p: GroupPayload;
    switch (kind) {
      case KIND_WELCOME:
        p = { kind: 'welcome', roster: r.bytes(MAX_GROUP_STATE_BYTES).slice() };
        break;
      case KIND_CHANGE:
        p = { kind: 'change', change: r.bytes(MAX_GROUP_STATE_BYTES).slice() };
        break;
      case KIND_MESSAGE: {
        const groupId = r.fixed(GROUP_ID_BYTES).slice();
        const distribution = r.bytes(MAX_DISTRIBUTION_BYTES).slice();
        p = { kind: 'message', groupId, distribution: distribution.length > 0 ? distribution : null, ciphertext: r.bytes(MAX_GROUP_MESSAGE_BYTES).slice() };
        break;
      }
      case KIND_CARDS: {
        const count = r.u16();
        if (count > MAX_CARDS_PER_PAYLOAD) throw new ClientError('BAD_ARGUMENT', 'too many member cards in one payload');
        const cards: MemberCard[] = [];
        for (let i = 0; i < count; i++) cards.push(readCard(r));
        p = { kind: 'cards', cards };
        break;
      }
      case KIND_JOIN_REQUEST:
        p = { kind: 'join_request', groupId: r.fixed(GROUP_ID_BYTES).slice(), secret: r.fixed(GROUP_INVITE_SECRET_BYTES).slice() };
        break;
      case KIND_RECEIPT: {
        const read = r.bool();
        const count = r.u16();
        if (count === 0 || count > MAX_RECEIPT_IDS) throw new ClientError('BAD_ARGUMENT', `a group receipt names 1..${MAX_RECEIPT_IDS} messages`);
        const ids: Uint8Array[] = [];
        for (let i = 0; i < count; i++) ids.push(r.fixed(CONTENT_ID_BYTES).slice());
        p = { kind: 'receipt', read, ids };
        break;
      }
      case KIND_RESEND:
        p = { kind: 'resend', groupId: r.fixed(GROUP_ID_BYTES).slice(), distributionId: r.fixed(GROUP_DISTRIBUTION_ID_BYTES).slice(), iteration: r.u32(), epoch: r.u64() };
        break;
      case KIND_WELCOME_REF: {
        const groupId = r.fixed(GROUP_ID_BYTES).slice();
        const epoch = r.u64();
        const ref = readReference(r);
        p = { kind: 'welcome_ref', groupId, epoch, reference: { ...ref, sha256: ref.sha256.slice(), key: ref.key.slice() } };
        break;
      }
      case KIND_WELCOME_REQUEST:
        p = { kind: 'welcome_request', groupId: r.fixed(GROUP_ID_BYTES).slice(), epoch: r.u64() };
        break;
      default:
        throw new ClientError('BAD_ARGUMENT', `unknown group payload kind ${kind}`);
    }
    r.end();
    return p;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'malformed group payload', { cause });
  }
}
