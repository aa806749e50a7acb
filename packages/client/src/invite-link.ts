/**
 * Invite links: `pigeon://invite/<base64url(payload)>`.
 * Payload (big-endian, protocol Writer): [version u8 = 1][relayUrl string][accountKey 32]
 * [deliveryToken bytes][displayName string][inviteSecret 16], then optionally
 * [routeCount u8 (1..MAX_INVITE_ROUTES)][route string]... : ways to the relay besides its URL
 * (`pigeon://bridge/...` links, docs/transport.md). A link without routes is byte-identical to
 * the original format; clients older than the routes extension reject links that carry routes.
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
/** Routes one invite may carry (keeps the QR code scannable). */
export const MAX_INVITE_ROUTES = 4;
/** Longest route link inside an invite. */
export const MAX_INVITE_ROUTE_BYTES = 512;
const MAX_TOKEN_BYTES = 64;

export interface Invite {
  readonly relayUrl: string;
  readonly accountKey: Uint8Array;
  readonly deliveryToken: Uint8Array;
  readonly displayName: string;
  readonly inviteSecret: Uint8Array;
  /** Bridge links (or other route links) to reach the inviter's relay; opaque to the SDK. */
  readonly routes?: readonly string[];
}

export function encodeInviteLink(invite: Invite): string {
  const payload = new Writer(160)
    .u8(INVITE_VERSION)
    .string(invite.relayUrl, MAX_URL_BYTES)
    .fixed(invite.accountKey, ED25519_PUBLIC_KEY_BYTES)
    .bytes(invite.deliveryToken, MAX_TOKEN_BYTES)
    .string(invite.displayName, MAX_NAME_BYTES)
    .fixed(invite.inviteSecret, INVITE_SECRET_BYTES);
  const routes = invite.routes ?? [];
  if (routes.length > MAX_INVITE_ROUTES) throw new ClientError('BAD_ARGUMENT', `an invite carries at most ${MAX_INVITE_ROUTES} routes`);
  if (routes.length > 0) {
    payload.u8(routes.length);
    for (const r of routes) payload.string(r, MAX_INVITE_ROUTE_BYTES);
  }
  return INVITE_LINK_PREFIX + toBase64Url(payload.finish());
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
    const routes: string[] = [];
    if (r.remaining() > 0) {
      const count = r.u8();
      if (count === 0 || count > MAX_INVITE_ROUTES) throw new ClientError('BAD_LINK', 'invite link carries a bad number of routes');
      for (let i = 0; i < count; i++) routes.push(r.string(MAX_INVITE_ROUTE_BYTES));
    }
    r.end();
    return { relayUrl, accountKey, deliveryToken, displayName, inviteSecret, ...(routes.length > 0 ? { routes } : {}) };
  } catch (cause) {
    if (cause instanceof ClientError && cause.code === 'BAD_LINK') throw cause;
    throw new ClientError('BAD_LINK', 'invite link is damaged or incomplete', { cause });
  }
}
