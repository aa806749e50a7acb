/**
 * Bridge links: `pigeon://bridge/<base64url(payload)>`, handed out by `pigeon bridge` as text and
 * QR code. Payload (big-endian, protocol Writer), docs/transport.md "Bridge links":
 *   [version u8 = 1][host string][port u16][certificate SHA-256 32][secret 32][relayUrl string]
 *   [path string][sni string ("" = none)][front string ("" = no fronting)]
 * The link is a bearer secret: whoever holds it can use the bridge (and nobody else can tell the
 * bridge from a website). relayUrl names the relay the bridge forwards to, so a client routes
 * only that relay's connections through it.
 */
import { fromBase64Url, toBase64Url } from '@pigeon/crypto';
import { Reader, Writer } from '@pigeon/protocol';
import { TransportError } from './errors.js';

export const BRIDGE_LINK_PREFIX = 'pigeon://bridge/';
export const BRIDGE_LINK_VERSION = 1;
export const BRIDGE_SECRET_BYTES = 32;
export const CERT_PIN_BYTES = 32;
export const MAX_HOST_BYTES = 253;
export const MAX_LINK_URL_BYTES = 512;
export const MAX_PATH_BYTES = 128;
/** Longest bridge link we try to decode (a real one is ~250 characters). */
export const MAX_BRIDGE_LINK_CHARS = 2048;

export interface BridgeInfo {
  readonly host: string;
  readonly port: number;
  /** SHA-256 of the bridge's certificate (DER), 32 bytes. */
  readonly certSha256: Uint8Array;
  readonly secret: Uint8Array;
  /** ws:// or wss:// URL of the relay behind the bridge. */
  readonly relayUrl: string;
  /** HTTP path of the WebSocket and tunnel endpoints (it starts with '/'). */
  readonly path: string;
  /** Name sent in the TLS SNI (an innocuous one); undefined sends none. */
  readonly sni?: string;
  /** Domain fronting: dial this name/IP with SNI = front; HTTP Host stays `host`. */
  readonly front?: string;
}

export function encodeBridgeLink(b: BridgeInfo): string {
  checkBridge(b);
  const payload = new Writer(256)
    .u8(BRIDGE_LINK_VERSION)
    .string(b.host, MAX_HOST_BYTES)
    .u16(b.port)
    .fixed(b.certSha256, CERT_PIN_BYTES)
    .fixed(b.secret, BRIDGE_SECRET_BYTES)
    .string(b.relayUrl, MAX_LINK_URL_BYTES)
    .string(b.path, MAX_PATH_BYTES)
    .string(b.sni ?? '', MAX_HOST_BYTES)
    .string(b.front ?? '', MAX_HOST_BYTES)
    .finish();
  return BRIDGE_LINK_PREFIX + toBase64Url(payload);
}

function checkBridge(b: BridgeInfo): void {
  if (b.host === '' || /[\s/]/.test(b.host)) throw new TransportError('BAD_LINK', 'bridge host is invalid');
  if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535) throw new TransportError('BAD_LINK', 'bridge port is invalid');
  if (!b.path.startsWith('/') || /\s/.test(b.path)) throw new TransportError('BAD_LINK', 'bridge path must start with /');
  if (!/^wss?:\/\//.test(b.relayUrl)) throw new TransportError('BAD_LINK', 'bridge relay URL must be ws:// or wss://');
}

/** Any malformed link, whatever the reason, is BAD_LINK. */
export function decodeBridgeLink(link: string): BridgeInfo {
  const text = link.trim();
  if (text.length > MAX_BRIDGE_LINK_CHARS) throw new TransportError('BAD_LINK', 'bridge link is too long');
  if (!text.startsWith(BRIDGE_LINK_PREFIX)) throw new TransportError('BAD_LINK', 'not a Pigeon bridge link');
  try {
    const r = new Reader(fromBase64Url(text.slice(BRIDGE_LINK_PREFIX.length)));
    if (r.u8() !== BRIDGE_LINK_VERSION) throw new TransportError('BAD_LINK', 'bridge link is from a newer version of Pigeon');
    const host = r.string(MAX_HOST_BYTES);
    const port = r.u16();
    const certSha256 = r.fixed(CERT_PIN_BYTES);
    const secret = r.fixed(BRIDGE_SECRET_BYTES);
    const relayUrl = r.string(MAX_LINK_URL_BYTES);
    const path = r.string(MAX_PATH_BYTES);
    const sni = r.string(MAX_HOST_BYTES);
    const front = r.string(MAX_HOST_BYTES);
    r.end();
    const info: BridgeInfo = { host, port, certSha256, secret, relayUrl, path, ...(sni !== '' ? { sni } : {}), ...(front !== '' ? { front } : {}) };
    checkBridge(info);
    return info;
  } catch (cause) {
    if (cause instanceof TransportError && cause.code === 'BAD_LINK') throw cause;
    throw new TransportError('BAD_LINK', 'bridge link is damaged or incomplete', { cause });
  }
}
