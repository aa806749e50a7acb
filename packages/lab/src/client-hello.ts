/**
 * A bounds-checked parser for the TLS ClientHello, as an inline DPI box reads it: from the first
 * bytes the client sends, possibly split across several TCP segments and several TLS records.
 *
 * Structure (RFC 8446 §5.1 records, §4 handshake, §4.1.2 ClientHello, §4.2 extensions; RFC 6066 §3
 * server_name; RFC 7301 ALPN; RFC 8701 GREASE). Older ClientHellos (TLS 1.0-1.2, RFC 5246 §7.4.1.2)
 * have the same layout and may omit extensions entirely.
 *
 * Never throws: every input yields a typed result. `incomplete` means "show me more bytes";
 * `not-tls` means the first bytes are not a TLS handshake record at all; `malformed` names the problem.
 */

/** RFC 8446 §5.1: a TLSPlaintext fragment MUST NOT exceed 2^14 bytes. */
export const MAX_RECORD_PAYLOAD = 16_384;
/** A DPI box gives up reassembling after this many bytes (real ClientHellos are < 2 KB; with ML-KEM key shares about 1.8 KB). */
export const MAX_CLIENT_HELLO_BYTES = 65_536;
const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_TYPE_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
const EXT_SUPPORTED_VERSIONS = 43;
const SERVER_NAME_HOST = 0;

export interface TlsExtension {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface ClientHello {
  readonly recordVersion: number;
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: readonly number[];
  readonly extensions: readonly TlsExtension[];
  /** The host_name from server_name (RFC 6066), lower-cased; undefined when absent. */
  readonly serverName: string | undefined;
  readonly alpn: readonly string[] | undefined;
  readonly supportedVersions: readonly number[] | undefined;
  /** True when any cipher suite, extension or version is a GREASE value (RFC 8701), as browsers send. */
  readonly grease: boolean;
  /** Bytes of TLS records the ClientHello occupied (header included). */
  readonly recordBytes: number;
}

export const CLIENT_HELLO_PROBLEMS = [
  'record-too-long', // record length above 2^14
  'empty-record', // zero-length handshake fragment (forbidden by §5.1)
  'interleaved-record', // a non-handshake record before the ClientHello was complete
  'not-client-hello', // first handshake message is not a ClientHello
  'too-large', // the ClientHello exceeds MAX_CLIENT_HELLO_BYTES
  'truncated-body', // a length field points past the end of the message
  'trailing-bytes', // bytes after the extensions inside the message
  'bad-session-id', // legacy_session_id longer than 32
  'bad-cipher-suites', // empty or odd-length cipher_suites
  'bad-compression', // no compression methods
  'bad-extension', // an extension's inner lengths are inconsistent
  'duplicate-extension', // the same extension type twice (§4.2)
  'bad-server-name', // server_name host is empty, not ASCII, or given twice
] as const;
export type ClientHelloProblem = (typeof CLIENT_HELLO_PROBLEMS)[number];

export type ClientHelloResult =
  | { readonly status: 'ok'; readonly hello: ClientHello }
  | { readonly status: 'incomplete' }
  | { readonly status: 'not-tls' }
  | { readonly status: 'malformed'; readonly problem: ClientHelloProblem };

class Malformed {
  constructor(readonly problem: ClientHelloProblem) {}
}

/** Sequential reader over one handshake body; any read past the end is a malformed message. */
class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  u8(): number {
    return this.take(1)[0] as number;
  }

  u16(): number {
    const b = this.take(2);
    return ((b[0] as number) << 8) | (b[1] as number);
  }

  take(n: number, problem: ClientHelloProblem = 'truncated-body'): Uint8Array {
    if (n < 0 || n > this.remaining) throw new Malformed(problem);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

export function isGrease(value: number): boolean {
  return (value & 0x0f0f) === 0x0a0a && value >> 8 === (value & 0xff);
}

function u16at(bytes: Uint8Array, i: number): number {
  return ((bytes[i] as number) << 8) | (bytes[i + 1] as number);
}

/**
 * Reassembles the first handshake message from consecutive handshake records.
 * Returns the message (header included) and how many record bytes it took.
 */
function reassemble(bytes: Uint8Array): { message: Uint8Array; recordBytes: number } | 'incomplete' | 'not-tls' | Malformed {
  if (bytes.length === 0) return 'incomplete';
  if (bytes[0] !== CONTENT_TYPE_HANDSHAKE) return 'not-tls';
  if (bytes.length >= 2 && bytes[1] !== 0x03) return 'not-tls';
  const fragments: Uint8Array[] = [];
  let collected = 0;
  let pos = 0;
  let needed: number | undefined;
  for (;;) {
    if (needed !== undefined && collected >= needed) break;
    if (bytes.length - pos < RECORD_HEADER) return 'incomplete';
    if (bytes[pos] !== CONTENT_TYPE_HANDSHAKE) return pos === 0 ? 'not-tls' : new Malformed('interleaved-record');
    if (bytes[pos + 1] !== 0x03) return pos === 0 ? 'not-tls' : new Malformed('interleaved-record');
    const length = u16at(bytes, pos + 3);
    if (length > MAX_RECORD_PAYLOAD) return new Malformed('record-too-long');
    if (length === 0) return new Malformed('empty-record');
    if (bytes.length - pos - RECORD_HEADER < length) return 'incomplete';
    fragments.push(bytes.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + length));
    collected += length;
    pos += RECORD_HEADER + length;
    if (needed === undefined && collected >= HANDSHAKE_HEADER) {
      const head = concat(fragments, HANDSHAKE_HEADER);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) return new Malformed('not-client-hello');
      const bodyLength = ((head[1] as number) << 16) | ((head[2] as number) << 8) | (head[3] as number);
      needed = HANDSHAKE_HEADER + bodyLength;
      if (needed > MAX_CLIENT_HELLO_BYTES) return new Malformed('too-large');
    }
    if (pos > MAX_CLIENT_HELLO_BYTES + 8 * RECORD_HEADER) return new Malformed('too-large');
  }
  return { message: concat(fragments, needed), recordBytes: pos };
}

function concat(parts: readonly Uint8Array[], limit: number): Uint8Array {
  const out = new Uint8Array(limit);
  let at = 0;
  for (const p of parts) {
    if (at >= limit) break;
    const n = Math.min(p.length, limit - at);
    out.set(p.subarray(0, n), at);
    at += n;
  }
  return out;
}

function parseBody(body: Uint8Array, recordVersion: number, recordBytes: number): ClientHello {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = r.take(32).slice();
  const sessionIdLength = r.u8();
  if (sessionIdLength > 32) throw new Malformed('bad-session-id');
  const sessionId = r.take(sessionIdLength).slice();
  const suitesLength = r.u16();
  if (suitesLength < 2 || suitesLength % 2 !== 0) throw new Malformed('bad-cipher-suites');
  const suites = new Reader(r.take(suitesLength));
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16());
  const compressionLength = r.u8();
  if (compressionLength < 1) throw new Malformed('bad-compression');
  const compressionMethods = [...r.take(compressionLength)];
  const extensions: TlsExtension[] = [];
  if (r.remaining > 0) {
    const extLength = r.u16();
    const exts = new Reader(r.take(extLength));
    if (r.remaining > 0) throw new Malformed('trailing-bytes');
    const seen = new Set<number>();
    while (exts.remaining > 0) {
      const type = exts.u16();
      const data = exts.take(exts.u16()).slice();
      if (seen.has(type)) throw new Malformed('duplicate-extension');
      seen.add(type);
      extensions.push({ type, data });
    }
  }
  let serverName: string | undefined;
  let alpn: string[] | undefined;
  let supportedVersions: number[] | undefined;
  for (const ext of extensions) {
    if (ext.type === EXT_SERVER_NAME) serverName = parseServerName(ext.data);
    else if (ext.type === EXT_ALPN) alpn = parseAlpn(ext.data);
    else if (ext.type === EXT_SUPPORTED_VERSIONS) supportedVersions = parseSupportedVersions(ext.data);
  }
  const grease =
    cipherSuites.some(isGrease) || extensions.some((e) => isGrease(e.type)) || (supportedVersions ?? []).some(isGrease);
  return {
    recordVersion,
    legacyVersion,
    random,
    sessionId,
    cipherSuites,
    compressionMethods,
    extensions,
    serverName,
    alpn,
    supportedVersions,
    grease,
    recordBytes,
  };
}

/** RFC 6066 §3: ServerNameList of (name_type, HostName); at most one host_name. */
function parseServerName(data: Uint8Array): string | undefined {
  // An empty extension is what a server sends back; in a ClientHello it carries no name.
  if (data.length === 0) return undefined;
  const r = new Reader(data);
  const list = new Reader(r.take(r.u16(), 'bad-extension'));
  if (r.remaining > 0) throw new Malformed('bad-extension');
  let host: string | undefined;
  while (list.remaining > 0) {
    if (list.remaining < 3) throw new Malformed('bad-extension');
    const type = list.u8();
    const name = list.take(list.u16(), 'bad-extension');
    if (type !== SERVER_NAME_HOST) continue;
    if (host !== undefined || name.length === 0) throw new Malformed('bad-server-name');
    for (const b of name) if (b < 0x21 || b > 0x7e) throw new Malformed('bad-server-name');
    host = String.fromCharCode(...name).toLowerCase();
  }
  return host;
}

/** RFC 7301 §3.1: ProtocolNameList of non-empty 8-bit-length names. */
function parseAlpn(data: Uint8Array): string[] {
  const r = new Reader(data);
  const list = new Reader(r.take(r.u16(), 'bad-extension'));
  if (r.remaining > 0) throw new Malformed('bad-extension');
  const out: string[] = [];
  while (list.remaining > 0) {
    const name = list.take(list.u8(), 'bad-extension');
    if (name.length === 0) throw new Malformed('bad-extension');
    out.push(String.fromCharCode(...name));
  }
  return out;
}

/** RFC 8446 §4.2.1: in a ClientHello, an 8-bit-length list of 16-bit versions. */
function parseSupportedVersions(data: Uint8Array): number[] {
  const r = new Reader(data);
  const length = r.u8();
  if (length % 2 !== 0) throw new Malformed('bad-extension');
  const list = new Reader(r.take(length, 'bad-extension'));
  if (r.remaining > 0) throw new Malformed('bad-extension');
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u16());
  return out;
}

export function parseClientHello(bytes: Uint8Array): ClientHelloResult {
  try {
    const assembled = reassemble(bytes);
    if (assembled === 'incomplete') return { status: 'incomplete' };
    if (assembled === 'not-tls') return { status: 'not-tls' };
    if (assembled instanceof Malformed) return { status: 'malformed', problem: assembled.problem };
    const recordVersion = u16at(bytes, 1);
    const hello = parseBody(assembled.message.subarray(HANDSHAKE_HEADER), recordVersion, assembled.recordBytes);
    return { status: 'ok', hello };
  } catch (err) {
    if (err instanceof Malformed) return { status: 'malformed', problem: err.problem };
    // Defensive: a parser bug must never crash a test run's censor; report it as malformed input.
    return { status: 'malformed', problem: 'truncated-body' };
  }
}
