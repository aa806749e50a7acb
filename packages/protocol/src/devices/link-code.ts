/**
 * The link code a new device shows as a QR code (or as text to paste), docs/protocol.md §13.2:
 *
 *   pigeon://link/<base64url(version(1) || relayUrl (u16 len + UTF-8 ≤ 512) || provisioningId(16)
 *                            || ephemeralKey(32) || deviceSigningKey(32) || deviceIdentityKey(32))>
 *
 * Nothing in it is secret. It travels over the one channel the relay cannot touch (the camera),
 * so it carries the new device's public keys themselves: the existing device certifies exactly
 * the keys on the screen in front of it, and a relay has nothing to substitute.
 */
import { fromBase64Url, toBase64Url, utf8 } from '@pigeon/crypto';
import { Reader, Writer } from '../codec/index.js';
import { KEY_BYTES } from '../constants.js';
import { asProtocolError, expectVersion } from '../codec-helpers.js';
import { ProtocolError } from '../errors.js';
import { LINK_CODE_PREFIX, LINK_CODE_VERSION, MAX_LINK_RELAY_URL_BYTES, PROVISIONING_ID_BYTES } from './constants.js';

export interface LinkCode {
  /** Where the new device waits (its provisioning mailbox lives on this relay). */
  readonly relayUrl: string;
  readonly provisioningId: Uint8Array;
  /** X25519 public key the provisioning message is encrypted to (fresh for each attempt). */
  readonly ephemeralKey: Uint8Array;
  /** The new device's own long-term public keys, to be certified by the account key. */
  readonly deviceSigningKey: Uint8Array;
  readonly deviceIdentityKey: Uint8Array;
}

export function encodeLinkCode(link: LinkCode): string {
  const url = utf8.encode(link.relayUrl);
  if (url.length === 0 || url.length > MAX_LINK_RELAY_URL_BYTES) {
    throw new ProtocolError('FIELD_TOO_LARGE', `relay URL must be 1..${MAX_LINK_RELAY_URL_BYTES} bytes`);
  }
  const bytes = new Writer(256)
    .u8(LINK_CODE_VERSION)
    .u16(url.length)
    .fixed(url, url.length)
    .fixed(link.provisioningId, PROVISIONING_ID_BYTES)
    .fixed(link.ephemeralKey, KEY_BYTES)
    .fixed(link.deviceSigningKey, KEY_BYTES)
    .fixed(link.deviceIdentityKey, KEY_BYTES)
    .finish();
  return LINK_CODE_PREFIX + toBase64Url(bytes);
}

/** Accepts the full `pigeon://link/…` text (surrounding whitespace ignored). Throws ProtocolError only. */
export function parseLinkCode(text: string): LinkCode {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!trimmed.startsWith(LINK_CODE_PREFIX)) throw new ProtocolError('BAD_FIELD', 'not a Pigeon link code');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(trimmed.slice(LINK_CODE_PREFIX.length));
  } catch (cause) {
    throw asProtocolError(cause, 'BAD_FIELD', 'link code is not base64url');
  }
  const r = new Reader(bytes);
  expectVersion(r.u8(), LINK_CODE_VERSION, 'link code');
  const urlLength = r.u16();
  if (urlLength === 0 || urlLength > MAX_LINK_RELAY_URL_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'relay URL length out of range');
  let relayUrl: string;
  try {
    relayUrl = utf8.decode(r.fixed(urlLength));
  } catch (cause) {
    throw asProtocolError(cause, 'BAD_FIELD', 'relay URL is not UTF-8');
  }
  const link: LinkCode = {
    relayUrl,
    provisioningId: r.fixed(PROVISIONING_ID_BYTES),
    ephemeralKey: r.fixed(KEY_BYTES),
    deviceSigningKey: r.fixed(KEY_BYTES),
    deviceIdentityKey: r.fixed(KEY_BYTES),
  };
  r.end();
  return link;
}
