/**
 * Invite links: `pigeon://invite/<base64url(payload)>`.
 * Payload (big-endian, protocol Writer): [version u8 = 1][relayUrl string][accountKey 32]
 * [deliveryToken bytes][displayName string][inviteSecret 16].
 * The link is a bearer secret: whoever holds it may message the inviter once
 * (the invite secret admits one introduction) and knows the delivery token.
 */
import { ED25519_PUBLIC_KEY_BYTES, fromBase64Url, toBase64Url } from '@pigeon/crypto';
import { Reader, Writer } from '@pigeon/protocol';
import { ClientError } from './errors.js';
import { INVITE_SECRET_BYTES, MAX_NAME_BYTES, MAX_URL_BYTES } from './limits.js';
import { normalizeRelayUrl } from './relay-url.js';

export const INVITE_LINK_PREFIX = 'pigeon://invite/';
export const INVITE_VERSION = 1;
/** Longest link we try to decode (a real one is about 200 characters). */
export const MAX_INVITE_LINK_CHARS = 2048;
const MIN_TOKEN_BYTES = 16;
const MAX_TOKEN_BYTES = 64;

export interface Invite {
  readonly relayUrl: string;
  readonly accountKey: Uint8Array;
  readonly deliveryToken: Uint8Array;
  readonly displayName: string;
  readonly inviteSecret: Uint8Array;
}

export function encodeInviteLink(invite: Invite): string {
  const payload = new Writer(160)
    .u8(INVITE_VERSION)
    .string(invite.relayUrl, MAX_URL_BYTES)
    .fixed(invite.accountKey, ED25519_PUBLIC_KEY_BYTES)
    .bytes(invite.deliveryToken, MAX_TOKEN_BYTES)
    .string(invite.displayName, MAX_NAME_BYTES)
    .fixed(invite.inviteSecret, INVITE_SECRET_BYTES)
    .finish();
  return INVITE_LINK_PREFIX + toBase64Url(payload);
}

/** Any malformed link, whatever the reason, is BAD_LINK. */
export function decodeInviteLink(link: string): Invite {
  const text = link.trim();
  if (text.length > MAX_INVITE_LINK_CHARS) throw new ClientError('BAD_LINK', 'invite link is too long');
  if (!text.startsWith(INVITE_LINK_PREFIX)) throw new ClientError('BAD_LINK', 'not a Pigeon invite link');
  try {
    const r = new Reader(fromBase64Url(text.slice(INVITE_LINK_PREFIX.length)));
    const version = r.u8();
    if (version !== INVITE_VERSION) throw new ClientError('BAD_LINK', 'invite link is damaged or from a newer version of Pigeon');
    const relayUrl = normalizeRelayUrl(r.string(MAX_URL_BYTES));
    const accountKey = r.fixed(ED25519_PUBLIC_KEY_BYTES);
    const deliveryToken = r.bytes(MAX_TOKEN_BYTES);
    if (deliveryToken.length < MIN_TOKEN_BYTES) throw new ClientError('BAD_LINK', 'delivery token too short');
    const displayName = r.string(MAX_NAME_BYTES);
    const inviteSecret = r.fixed(INVITE_SECRET_BYTES);
    r.end();
    return { relayUrl, accountKey, deliveryToken, displayName, inviteSecret };
  } catch (cause) {
    if (cause instanceof ClientError && cause.code === 'BAD_LINK') throw cause;
    throw new ClientError('BAD_LINK', 'invite link is damaged or incomplete', { cause });
  }
}
