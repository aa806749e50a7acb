/**
 * Builds ClientHellos from the RFC 8446 §4.1.2 structure, shaped like a current Chromium one
 * (GREASE values per RFC 8701, X25519MLKEM768 key share, ALPN h2/http1.1, ECH GREASE), so the
 * parser and the censor are tested on the large, browser-like hellos real clients send.
 */
const GREASE = [0x0a0a, 0x1a1a, 0x2a2a, 0x3a3a, 0x4a4a, 0x5a5a, 0x6a6a, 0x7a7a, 0x8a8a, 0x9a9a, 0xaaaa, 0xbaba, 0xcaca, 0xdada, 0xeaea, 0xfafa];

function u8(n: number): number[] {
  return [n & 0xff];
}
function u16(n: number): number[] {
  return [(n >> 8) & 0xff, n & 0xff];
}
function u24(n: number): number[] {
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}
function vec8(body: number[]): number[] {
  return [...u8(body.length), ...body];
}
function vec16(body: number[]): number[] {
  return [...u16(body.length), ...body];
}
function ascii(s: string): number[] {
  return [...s].map((c) => c.charCodeAt(0));
}
function filled(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_v, i) => (i * 131 + seed * 17 + 7) & 0xff);
}
function ext(type: number, body: number[]): number[] {
  return [...u16(type), ...vec16(body)];
}

export interface HelloOptions {
  /** Omit for a ClientHello without server_name. */
  readonly sni?: string;
  readonly alpn?: readonly string[];
  /** Include the ~1.2 KB ML-KEM key share (as Chromium since 2024). */
  readonly postQuantum?: boolean;
  /** Split the handshake message into TLS records of at most this many bytes. */
  readonly recordSize?: number;
  readonly seed?: number;
}

export function buildChromiumLikeHello(options: HelloOptions = {}): Uint8Array {
  const seed = options.seed ?? 1;
  const g = (i: number) => GREASE[(seed + i) % GREASE.length] as number;
  const suites = [g(0), 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
  const extensions: number[][] = [ext(g(1), [])];
  if (options.sni !== undefined) extensions.push(ext(0, vec16([0, ...vec16(ascii(options.sni))])));
  extensions.push(ext(23, []), ext(0xff01, [0]));
  extensions.push(ext(10, vec16([...u16(g(2)), ...u16(0x11ec), ...u16(0x001d), ...u16(0x0017), ...u16(0x0018)])));
  extensions.push(ext(11, vec8([0])), ext(35, []));
  const alpn = options.alpn ?? ['h2', 'http/1.1'];
  extensions.push(ext(16, vec16(alpn.flatMap((p) => vec8(ascii(p))))));
  extensions.push(ext(5, [1, 0, 0, 0, 0]));
  extensions.push(ext(13, vec16([0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601].flatMap(u16))));
  extensions.push(ext(18, []));
  const shares = [...u16(g(3)), ...vec16([0])];
  if (options.postQuantum !== false) shares.push(...u16(0x11ec), ...vec16(filled(1216, seed)));
  shares.push(...u16(0x001d), ...vec16(filled(32, seed + 1)));
  extensions.push(ext(51, vec16(shares)));
  extensions.push(ext(45, vec8([1])));
  extensions.push(ext(43, vec8([...u16(g(4)), ...u16(0x0304), ...u16(0x0303)])));
  extensions.push(ext(27, vec8(u16(2))));
  extensions.push(ext(17513, vec16(vec8(ascii('h2')))));
  extensions.push(ext(0xfe0d, [0, 0, 1, 0, 1, 0x42, ...vec16(filled(32, seed + 2)), ...vec16(filled(144, seed + 3))]));
  extensions.push(ext(g(5), [0]));
  const body = [
    ...u16(0x0303),
    ...filled(32, seed + 4),
    ...vec8(filled(32, seed + 5)),
    ...vec16(suites.flatMap(u16)),
    ...vec8([0]),
    ...vec16(extensions.flat()),
  ];
  const message = [1, ...u24(body.length), ...body];
  const recordSize = options.recordSize ?? 16_384;
  const out: number[] = [];
  for (let i = 0; i < message.length; i += recordSize) {
    const fragment = message.slice(i, i + recordSize);
    out.push(0x16, 0x03, 0x01, ...u16(fragment.length), ...fragment);
  }
  return Uint8Array.from(out);
}
