/**
 * Content messages: what travels inside the Double Ratchet (the relay never sees them).
 * Layout: [version u8 = CONTENT_VERSION][type u8][id 16][sentAt u64][body].
 * Every content message carries a random id so the recipient can drop duplicates
 * (the relay delivers at least once) and so receipts can name what they acknowledge.
 */
import { Reader, Writer } from '@pigeon/protocol';
import { ClientError } from './errors.js';
import { readReference, writeReference, type AttachmentReference } from './attachments/reference.js';
import {
  CONTENT_ID_BYTES,
  INVITE_SECRET_BYTES,
  MAX_NAME_BYTES,
  MAX_RECEIPT_IDS,
  MAX_TEXT_BYTES,
  MAX_URL_BYTES,
} from './limits.js';

export const CONTENT_VERSION = 1;
const TYPE_TEXT = 1;
const TYPE_RECEIPT = 2;
const TYPE_INTRODUCTION = 3;
const TYPE_READ_RECEIPT = 4;
const TYPE_ATTACHMENT = 5;
/** Groups (groups/payload.ts) and linked devices (devices/payload.ts) carry their own versioned payloads. */
const TYPE_GROUP = 6;
const TYPE_DEVICE = 7;
/** Message life (message-life/payload.ts): replies, reactions, edits, deletes, timers, typing, token changes. */
const TYPE_LIFE = 8;
/** A group or device payload (a welcome roster for 1,000 members stays far below). */
export const MAX_FEATURE_PAYLOAD_BYTES = 240_000;
/** Tokens from other clients may use any length the relay accepts. */
const MAX_TOKEN_BYTES = 64;

interface ContentBase {
  readonly id: Uint8Array;
  readonly sentAt: number;
}
export interface TextContent extends ContentBase {
  readonly type: 'text';
  readonly text: string;
}
export interface ReceiptContent extends ContentBase {
  readonly type: 'receipt';
  readonly ids: readonly Uint8Array[];
}
/** The recipient has read these messages (sent only while its read receipts are on). */
export interface ReadReceiptContent extends ContentBase {
  readonly type: 'read';
  readonly ids: readonly Uint8Array[];
}
/** Sent by whoever accepted an invite: who they are and how to reach them back. */
export interface IntroductionContent extends ContentBase {
  readonly type: 'introduction';
  readonly displayName: string;
  readonly deliveryToken: Uint8Array;
  readonly relayUrl: string;
  readonly inviteSecret: Uint8Array;
}
/** A file: where its encrypted blob is and the key to it (docs/attachments.md), plus an optional caption. */
export interface AttachmentContent extends ContentBase {
  readonly type: 'attachment';
  readonly attachment: AttachmentReference;
  readonly caption: string;
}
/** Group traffic (welcome, change, sender-key message, ...): decoded by groups/payload.ts. */
export interface GroupContent extends ContentBase {
  readonly type: 'group';
  readonly payload: Uint8Array;
}
/** Between our own devices (sent-message sync, device list updates): decoded by devices/payload.ts. */
export interface DeviceContent extends ContentBase {
  readonly type: 'device';
  readonly payload: Uint8Array;
}
/** Message life: decoded by message-life/payload.ts. */
export interface LifeContent extends ContentBase {
  readonly type: 'life';
  readonly payload: Uint8Array;
}
export type Content = TextContent | ReceiptContent | ReadReceiptContent | IntroductionContent | AttachmentContent | GroupContent | DeviceContent | LifeContent;

export function encodeContent(content: Content): Uint8Array {
  try {
    const w = new Writer(64).u8(CONTENT_VERSION);
    const head = (type: number) => w.u8(type).fixed(content.id, CONTENT_ID_BYTES).u64(content.sentAt);
    switch (content.type) {
      case 'text':
        head(TYPE_TEXT).string(content.text, MAX_TEXT_BYTES);
        break;
      case 'receipt':
      case 'read':
        if (content.ids.length > MAX_RECEIPT_IDS) throw new ClientError('BAD_ARGUMENT', 'too many ids in one receipt');
        head(content.type === 'read' ? TYPE_READ_RECEIPT : TYPE_RECEIPT).u16(content.ids.length);
        for (const id of content.ids) w.fixed(id, CONTENT_ID_BYTES);
        break;
      case 'attachment':
        writeReference(head(TYPE_ATTACHMENT), content.attachment).string(content.caption, MAX_TEXT_BYTES);
        break;
      case 'group':
      case 'device':
        head(content.type === 'group' ? TYPE_GROUP : TYPE_DEVICE).bytes(content.payload, MAX_FEATURE_PAYLOAD_BYTES);
        break;
      case 'life':
        head(TYPE_LIFE).bytes(content.payload, MAX_FEATURE_PAYLOAD_BYTES);
        break;
      case 'introduction':
        head(TYPE_INTRODUCTION)
          .string(content.displayName, MAX_NAME_BYTES)
          .bytes(content.deliveryToken, MAX_TOKEN_BYTES)
          .string(content.relayUrl, MAX_URL_BYTES)
          .fixed(content.inviteSecret, INVITE_SECRET_BYTES);
        break;
    }
    return w.finish();
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'content does not fit its limits', { cause });
  }
}

/** Throws ClientError BAD_ARGUMENT on anything malformed (callers drop such messages). */
export function decodeContent(bytes: Uint8Array): Content {
  try {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== CONTENT_VERSION) throw new ClientError('BAD_ARGUMENT', `unknown content version ${version}`);
    const type = r.u8();
    const id = r.fixed(CONTENT_ID_BYTES);
    const sentAt = r.u64();
    let content: Content;
    switch (type) {
      case TYPE_TEXT:
        content = { type: 'text', id, sentAt, text: r.string(MAX_TEXT_BYTES) };
        break;
      case TYPE_RECEIPT:
      case TYPE_READ_RECEIPT: {
        const count = r.u16();
        if (count > MAX_RECEIPT_IDS) throw new ClientError('BAD_ARGUMENT', 'too many ids in one receipt');
        const ids: Uint8Array[] = [];
        for (let i = 0; i < count; i++) ids.push(r.fixed(CONTENT_ID_BYTES));
        content = { type: type === TYPE_READ_RECEIPT ? 'read' : 'receipt', id, sentAt, ids };
        break;
      }
      case TYPE_ATTACHMENT:
        content = { type: 'attachment', id, sentAt, attachment: readReference(r), caption: r.string(MAX_TEXT_BYTES) };
        break;
      case TYPE_GROUP:
      case TYPE_DEVICE:
        content = { type: type === TYPE_GROUP ? 'group' : 'device', id, sentAt, payload: r.bytes(MAX_FEATURE_PAYLOAD_BYTES).slice() };
        break;
      case TYPE_LIFE:
        content = { type: 'life', id, sentAt, payload: r.bytes(MAX_FEATURE_PAYLOAD_BYTES).slice() };
        break;
      case TYPE_INTRODUCTION:
        content = {
          type: 'introduction',
          id,
          sentAt,
          displayName: r.string(MAX_NAME_BYTES),
          deliveryToken: r.bytes(MAX_TOKEN_BYTES),
          relayUrl: r.string(MAX_URL_BYTES),
          inviteSecret: r.fixed(INVITE_SECRET_BYTES),
        };
        break;
      default:
        throw new ClientError('BAD_ARGUMENT', `unknown content type ${type}`);
    }
    r.end();
    return content;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'malformed content message', { cause });
  }
}
