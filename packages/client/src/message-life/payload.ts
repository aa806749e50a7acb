/**
 * What travels inside content type `life` (content.ts): the message-life payloads
 * (docs/message-life.md). Layout: [kind u8][body]. Versioned by kind numbers: a client that
 * does not know a kind drops that payload and keeps working.
 *
 *   text      text || replyTo (u8 flag + 16) || quote || timerMs u32  — a text that replies and/or disappears
 *   reaction  target(16) || emoji (empty = remove our reaction)
 *   edit      target(16) || text
 *   delete    target(16)
 *   timer     timerMs u32 (0 = off)                                     — the chat's disappearing timer
 *   typing    on u8
 *   token     deliveryToken                                             — our new delivery token (after a block)
 *   sync      to(16) || id(16) || sentAt u64 || inner payload           — to our own other devices: what we did in chat `to`
 */
import { Reader, Writer } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { CONTENT_ID_BYTES, MAX_TEXT_BYTES } from '../limits.js';
import { MAX_QUOTE_CHARS, MAX_REACTION_BYTES, MAX_TIMER_MS } from './limits.js';

const KIND_TEXT = 1;
const KIND_REACTION = 2;
const KIND_EDIT = 3;
const KIND_DELETE = 4;
const KIND_TIMER = 5;
const KIND_TYPING = 6;
const KIND_TOKEN = 7;
const KIND_SYNC = 8;
const ACCOUNT_ID_BYTES = 16;
/** UTF-8 bytes of a quote: MAX_QUOTE_CHARS characters of up to 4 bytes. */
const MAX_QUOTE_BYTES = MAX_QUOTE_CHARS * 4;
const MAX_TOKEN_BYTES = 64;

export type LifePayload =
  | { readonly kind: 'text'; readonly text: string; readonly replyTo: Uint8Array | null; readonly quote: string; readonly timerMs: number }
  | { readonly kind: 'reaction'; readonly target: Uint8Array; readonly emoji: string }
  | { readonly kind: 'edit'; readonly target: Uint8Array; readonly text: string }
  | { readonly kind: 'delete'; readonly target: Uint8Array }
  | { readonly kind: 'timer'; readonly timerMs: number }
  | { readonly kind: 'typing'; readonly on: boolean }
  | { readonly kind: 'token'; readonly deliveryToken: Uint8Array }
  | { readonly kind: 'sync'; readonly to: Uint8Array; readonly id: Uint8Array; readonly sentAt: number; readonly inner: Uint8Array };

function checkTimer(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_TIMER_MS) throw new ClientError('BAD_ARGUMENT', 'timer out of range');
  return ms;
}

export function encodeLifePayload(p: LifePayload): Uint8Array {
  try {
    const w = new Writer(32);
    switch (p.kind) {
      case 'text':
        w.u8(KIND_TEXT).string(p.text, MAX_TEXT_BYTES).bool(p.replyTo !== null);
        if (p.replyTo) w.fixed(p.replyTo, CONTENT_ID_BYTES);
        w.string(p.quote, MAX_QUOTE_BYTES).u32(checkTimer(p.timerMs));
        break;
      case 'reaction':
        w.u8(KIND_REACTION).fixed(p.target, CONTENT_ID_BYTES).string(p.emoji, MAX_REACTION_BYTES);
        break;
      case 'edit':
        w.u8(KIND_EDIT).fixed(p.target, CONTENT_ID_BYTES).string(p.text, MAX_TEXT_BYTES);
        break;
      case 'delete':
        w.u8(KIND_DELETE).fixed(p.target, CONTENT_ID_BYTES);
        break;
      case 'timer':
        w.u8(KIND_TIMER).u32(checkTimer(p.timerMs));
        break;
      case 'typing':
        w.u8(KIND_TYPING).bool(p.on);
        break;
      case 'token':
        w.u8(KIND_TOKEN).bytes(p.deliveryToken, MAX_TOKEN_BYTES);
        break;
      case 'sync':
        w.u8(KIND_SYNC).fixed(p.to, ACCOUNT_ID_BYTES).fixed(p.id, CONTENT_ID_BYTES).u64(p.sentAt).bytes(p.inner, MAX_TEXT_BYTES * 2);
        break;
    }
    return w.finish();
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'message-life payload does not fit its limits', { cause });
  }
}

/** Throws ClientError BAD_ARGUMENT on anything malformed or of an unknown kind. */
export function decodeLifePayload(bytes: Uint8Array): LifePayload {
  try {
    const r = new Reader(bytes);
    const kind = r.u8();
    let p: LifePayload;
    switch (kind) {
      case KIND_TEXT: {
        const text = r.string(MAX_TEXT_BYTES);
        const replyTo = r.bool() ? r.fixed(CONTENT_ID_BYTES).slice() : null;
        p = { kind: 'text', text, replyTo, quote: r.string(MAX_QUOTE_BYTES), timerMs: checkTimer(r.u32()) };
        break;
      }
      case KIND_REACTION:
        p = { kind: 'reaction', target: r.fixed(CONTENT_ID_BYTES).slice(), emoji: r.string(MAX_REACTION_BYTES) };
        break;
      case KIND_EDIT:
        p = { kind: 'edit', target: r.fixed(CONTENT_ID_BYTES).slice(), text: r.string(MAX_TEXT_BYTES) };
        break;
      case KIND_DELETE:
        p = { kind: 'delete', target: r.fixed(CONTENT_ID_BYTES).slice() };
        break;
      case KIND_TIMER:
        p = { kind: 'timer', timerMs: checkTimer(r.u32()) };
        break;
      case KIND_TYPING:
        p = { kind: 'typing', on: r.bool() };
        break;
      case KIND_TOKEN:
        p = { kind: 'token', deliveryToken: r.bytes(MAX_TOKEN_BYTES).slice() };
        break;
      case KIND_SYNC:
        p = { kind: 'sync', to: r.fixed(ACCOUNT_ID_BYTES).slice(), id: r.fixed(CONTENT_ID_BYTES).slice(), sentAt: r.u64(), inner: r.bytes(MAX_TEXT_BYTES * 2).slice() };
        break;
      default:
        throw new ClientError('BAD_ARGUMENT', `unknown message-life kind ${kind}`);
    }
    r.end();
    return p;
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', 'malformed message-life payload', { cause });
  }
}
