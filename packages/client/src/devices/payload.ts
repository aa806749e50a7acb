/**
 * What travels inside content type `device` (content.ts), and the application payload of a
 * provisioning message (docs/protocol.md §13.2 `extra`).
 *
 * DevicePayload = [version u8 = DEVICE_PAYLOAD_VERSION][kind u8][body]
 *   hello   (empty)                                 — a newly linked device announces itself to our other devices
 *   sent    to(16) || content (u32 len)             — sent-message sync: what another of our devices sent to contact `to`
 *   list    deviceList (u32 len)                    — our new account-signed device list (to contacts and own devices)
 *   contact card                                    — a contact another of our devices added
 *
 * LinkExtra = [version u8][displayName][deliveryToken][count u16][card*]  — what a new device needs to act as the account.
 */
import { MAX_DEVICE_LIST_BYTES, Reader, Writer } from '@pigeon/protocol';
import { ClientError } from '../errors.js';
import { MAX_NAME_BYTES, MAX_URL_BYTES } from '../limits.js';
import type { ContactCard } from '../internals.js';

export const DEVICE_PAYLOAD_VERSION = 1;
export const LINK_EXTRA_VERSION = 1;
/** A synced content (a text up to MAX_TEXT_BYTES, an attachment reference, ...). */
export const MAX_SYNCED_CONTENT_BYTES = 64 * 1024;
/** Contacts copied to a new device inside the provisioning message (which holds at most 64 KiB of extra). */
export const MAX_LINK_CONTACTS = 250;
const ACCOUNT_ID_BYTES = 16;
const MAX_TOKEN_BYTES = 64;

const KIND_HELLO = 1;
const KIND_SENT = 2;
const KIND_LIST = 3;
const KIND_CONTACT = 4;

export type DevicePayload =
  | { readonly kind: 'hello' }
  | { readonly kind: 'sent'; readonly to: Uint8Array; readonly content: Uint8Array }
  | { readonly kind: 'list'; readonly deviceList: Uint8Array }
  | { readonly kind: 'contact'; readonly card: ContactCard };

export interface LinkExtra {
  readonly displayName: string;
  readonly deliveryToken: Uint8Array;
  readonly contacts: readonly ContactCard[];
}

function writeCard(w: Writer, c: ContactCard): Writer {
  return w.fixed(c.accountKey, 32).string(c.name, MAX_NAME_BYTES).string(c.relayUrl, MAX_URL_BYTES).bytes(c.deliveryToken, MAX_TOKEN_BYTES);
}

function readCard(r: Reader): ContactCard {
  return { accountKey: r.fixed(32).slice(), name: r.string(MAX_NAME_BYTES), relayUrl: r.string(MAX_URL_BYTES), deliveryToken: r.bytes(MAX_TOKEN_BYTES).slice() };
}

function wrapErrors<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (cause) {
    if (cause instanceof ClientError) throw cause;
    throw new ClientError('BAD_ARGUMENT', `malformed ${what}`, { cause });
  }
}

export function encodeDevicePayload(p: DevicePayload): Uint8Array {
  return wrapErrors('device payload', () => {
    const w = new Writer(64).u8(DEVICE_PAYLOAD_VERSION);
    switch (p.kind) {
      case 'hello':
        w.u8(KIND_HELLO);
        break;
      case 'sent':
        w.u8(KIND_SENT).fixed(p.to, ACCOUNT_ID_BYTES).bytes(p.content, MAX_SYNCED_CONTENT_BYTES);
        break;
      case 'list':
        w.u8(KIND_LIST).bytes(p.deviceList, MAX_DEVICE_LIST_BYTES);
        break;
      case 'contact':
        writeCard(w.u8(KIND_CONTACT), p.card);
        break;
    }
    return w.finish();
  });
}

/** Throws ClientError BAD_ARGUMENT on anything malformed. */
export function decodeDevicePayload(bytes: Uint8Array): DevicePayload {
  return wrapErrors('device payload', () => {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== DEVICE_PAYLOAD_VERSION) throw new ClientError('BAD_ARGUMENT', `unknown device payload version ${version}`);
    const kind = r.u8();
    let p: DevicePayload;
    switch (kind) {
      case KIND_HELLO:
        p = { kind: 'hello' };
        break;
      case KIND_SENT:
        p = { kind: 'sent', to: r.fixed(ACCOUNT_ID_BYTES).slice(), content: r.bytes(MAX_SYNCED_CONTENT_BYTES).slice() };
        break;
      case KIND_LIST:
        p = { kind: 'list', deviceList: r.bytes(MAX_DEVICE_LIST_BYTES).slice() };
        break;
      case KIND_CONTACT:
        p = { kind: 'contact', card: readCard(r) };
        break;
      default:
        throw new ClientError('BAD_ARGUMENT', `unknown device payload kind ${kind}`);
    }
    r.end();
    return p;
  });
}

export function encodeLinkExtra(extra: LinkExtra): Uint8Array {
  return wrapErrors('link data', () => {
    const contacts = extra.contacts.slice(0, MAX_LINK_CONTACTS);
    const w = new Writer(256).u8(LINK_EXTRA_VERSION).string(extra.displayName, MAX_NAME_BYTES).bytes(extra.deliveryToken, MAX_TOKEN_BYTES).u16(contacts.length);
    for (const c of contacts) writeCard(w, c);
    return w.finish();
  });
}

export function decodeLinkExtra(bytes: Uint8Array): LinkExtra {
  return wrapErrors('link data', () => {
    const r = new Reader(bytes);
    const version = r.u8();
    if (version !== LINK_EXTRA_VERSION) throw new ClientError('BAD_ARGUMENT', `unknown link data version ${version}`);
    const displayName = r.string(MAX_NAME_BYTES);
    const deliveryToken = r.bytes(MAX_TOKEN_BYTES).slice();
    const count = r.u16();
    if (count > MAX_LINK_CONTACTS) throw new ClientError('BAD_ARGUMENT', 'too many contacts in link data');
    const contacts: ContactCard[] = [];
    for (let i = 0; i < count; i++) contacts.push(readCard(r));
    r.end();
    return { displayName, deliveryToken, contacts };
  });
}

/**
 * A linked device does not hold the account secret key (docs/protocol.md §13.2): its identity
 * row stores this marker and the account's PUBLIC key where the first device stores its
 * encoded AccountKeys. The marker byte is not a valid key-storage version.
 */
export const LINKED_ACCOUNT_MARKER = 0xa5;

export function encodeLinkedAccount(accountKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = LINKED_ACCOUNT_MARKER;
  out.set(accountKey, 1);
  return out;
}

/** The account public key when `bytes` is a linked device's marker, else null. */
export function linkedAccountKey(bytes: Uint8Array): Uint8Array | null {
  return bytes.length === 33 && bytes[0] === LINKED_ACCOUNT_MARKER ? bytes.slice(1) : null;
}
