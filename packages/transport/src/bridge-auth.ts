/**
 * Bridge authentication (docs/transport.md "Bridge auth"). Every WebSocket upgrade and every tunnel
 * exchange carries a fresh token in an ordinary-looking cookie:
 *   token = base64url([version u8 = 1][purpose u8][time u64 ms][nonce 16][mac 16])
 *   mac   = HMAC-SHA256(secret, "pigeon-bridge-auth-v1" || version || purpose || time || nonce)[0..16]
 * The bridge accepts a token only if the MAC verifies (altered bytes fail), the time is within
 * MAX_CLOCK_SKEW_MS of its clock, and the nonce has not been seen (a replay fails); anything else
 * gets the website, exactly like a browser would. The MAC is checked before the nonce is recorded,
 * so garbage cannot fill the replay cache.
 */
import { concatBytes, equalBytes, fromBase64Url, toBase64Url, toHex, utf8 } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';

export const AUTH_TOKEN_VERSION = 1;
export const AUTH_NONCE_BYTES = 16;
export const AUTH_MAC_BYTES = 16;
/** version + purpose + time + nonce + mac */
export const AUTH_TOKEN_BYTES = 1 + 1 + 8 + AUTH_NONCE_BYTES + AUTH_MAC_BYTES;
/** How far a token's time may be from the bridge's clock (both ways). */
export const MAX_CLOCK_SKEW_MS = 120_000;
/** Nonces remembered at most; when full and nothing has expired, new tokens are refused (fail closed). */
export const MAX_REPLAY_ENTRIES = 100_000;
/** The cookie name the token travels in. */
export const AUTH_COOKIE = 'sid';

const LABEL = utf8.encode('pigeon-bridge-auth-v1');

export const AUTH_PURPOSE = { websocket: 1, tunnel: 2 } as const;
export type AuthPurpose = keyof typeof AUTH_PURPOSE;

function header(purpose: AuthPurpose, timeMs: number, nonce: Uint8Array): Uint8Array {
  const fixed = new Uint8Array(10);
  fixed[0] = AUTH_TOKEN_VERSION;
  fixed[1] = AUTH_PURPOSE[purpose];
  const view = new DataView(fixed.buffer);
  view.setUint32(2, Math.floor(timeMs / 0x100000000));
  view.setUint32(6, timeMs >>> 0);
  return concatBytes(fixed, nonce);
}

export async function mintAuthToken(crypto: CryptoBackend, secret: Uint8Array, purpose: AuthPurpose, nowMs: number): Promise<string> {
  const head = header(purpose, Math.floor(nowMs), crypto.randomBytes(AUTH_NONCE_BYTES));
  const mac = (await crypto.hmacSha256(secret, concatBytes(LABEL, head))).subarray(0, AUTH_MAC_BYTES);
  return toBase64Url(concatBytes(head, mac));
}

export type AuthVerdict = 'ok' | 'malformed' | 'bad-mac' | 'stale' | 'replayed' | 'cache-full' | 'wrong-purpose';

/** Remembers nonces until their token could no longer pass the time check. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(private readonly maxEntries = MAX_REPLAY_ENTRIES) {}

  get size(): number {
    return this.seen.size;
  }

  /** Records the nonce; false if it was already there (or the cache is full of live entries). */
  add(nonceKey: string, expiresAt: number, nowMs: number): 'added' | 'replayed' | 'full' {
    if (this.seen.has(nonceKey)) return 'replayed';
    if (this.seen.size >= this.maxEntries) {
      for (const [k, exp] of this.seen) if (exp <= nowMs) this.seen.delete(k);
      if (this.seen.size >= this.maxEntries) return 'full';
    }
    this.seen.set(nonceKey, expiresAt);
    return 'added';
  }

  sweep(nowMs: number): void {
    for (const [k, exp] of this.seen) if (exp <= nowMs) this.seen.delete(k);
  }
}

export async function verifyAuthToken(
  crypto: CryptoBackend,
  secret: Uint8Array,
  token: string,
  purpose: AuthPurpose,
  nowMs: number,
  cache: ReplayCache,
): Promise<AuthVerdict> {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(token);
  } catch {
    return 'malformed';
  }
  if (bytes.length !== AUTH_TOKEN_BYTES || bytes[0] !== AUTH_TOKEN_VERSION) return 'malformed';
  const head = bytes.subarray(0, AUTH_TOKEN_BYTES - AUTH_MAC_BYTES);
  const mac = bytes.subarray(AUTH_TOKEN_BYTES - AUTH_MAC_BYTES);
  const expected = (await crypto.hmacSha256(secret, concatBytes(LABEL, head))).subarray(0, AUTH_MAC_BYTES);
  if (!equalBytes(mac, expected)) return 'bad-mac';
  if (bytes[1] !== AUTH_PURPOSE[purpose]) return 'wrong-purpose';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const timeMs = view.getUint32(2) * 0x100000000 + view.getUint32(6);
  if (Math.abs(nowMs - timeMs) > MAX_CLOCK_SKEW_MS) return 'stale';
  const added = cache.add(toHex(bytes.subarray(10, 10 + AUTH_NONCE_BYTES)), timeMs + MAX_CLOCK_SKEW_MS, nowMs);
  return added === 'added' ? 'ok' : added === 'replayed' ? 'replayed' : 'cache-full';
}

/** Finds our cookie in a Cookie header (ordinary cookie syntax; other cookies are ignored). */
export function tokenFromCookie(cookieHeader: string | undefined): string | undefined {
  if (cookieHeader === undefined) return undefined;
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === AUTH_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}
