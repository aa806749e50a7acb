/**
 * Client side of the two proxy handshakes a route may go through (so a local Tor client, a
 * corporate proxy or any SOCKS tunnel works as a hop):
 * - SOCKS5 (RFC 1928) with no-auth or username/password (RFC 1929). `socks5h` sends the name
 *   (ATYP 3) so the proxy resolves it: with Tor this keeps DNS away from the local censor.
 * - HTTP CONNECT (RFC 9110 §9.3.6) with optional Basic credentials.
 * Both run over an already-open stream and resolve once the tunnel is established; any bytes the
 * proxy sends after its reply are pushed back (unshift) for the next layer.
 */
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { TransportError } from './errors.js';

/** Largest proxy reply we buffer before calling it nonsense. */
export const MAX_PROXY_REPLY_BYTES = 8192;

export type ProxyKind = 'socks5' | 'socks5h' | 'http';

export interface ProxySpec {
  readonly kind: ProxyKind;
  readonly host: string;
  readonly port: number;
  readonly username?: string;
  readonly password?: string;
}

/** Reads until `complete(buffer)` returns the number of bytes the reply used (or -1 for more). */
function readReply(stream: Duplex, complete: (buf: Buffer) => number, timeoutMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      let used: number;
      try {
        used = complete(buf);
      } catch (err) {
        fail(err as Error);
        return;
      }
      if (used < 0) {
        if (buf.length > MAX_PROXY_REPLY_BYTES) fail(new TransportError('PROXY_FAILED', 'proxy reply too long'));
        return;
      }
      cleanup();
      stream.pause();
      if (used < buf.length) stream.unshift(buf.subarray(used));
      resolve(buf.subarray(0, used));
    };
    const onError = (err: Error) => fail(new TransportError('PROXY_FAILED', 'proxy connection failed', { cause: err }));
    const onClose = () => fail(new TransportError('PROXY_FAILED', 'proxy closed the connection'));
    const timer = setTimeout(() => fail(new TransportError('TIMEOUT', 'proxy did not answer in time')), timeoutMs);
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('close', onClose);
    // The previous reply paused the stream (so no byte is lost between layers): flow again.
    stream.resume();
  });
}

const SOCKS_REPLY_TEXT: Record<number, string> = {
  1: 'general failure',
  2: 'not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

export async function socks5Handshake(stream: Duplex, proxy: ProxySpec, host: string, port: number, timeoutMs: number): Promise<void> {
  const withAuth = proxy.username !== undefined;
  stream.write(withAuth ? Buffer.from([5, 2, 0, 2]) : Buffer.from([5, 1, 0]));
  const method = await readReply(stream, (b) => (b.length >= 2 ? 2 : -1), timeoutMs);
  if (method[0] !== 5) throw new TransportError('PROXY_FAILED', 'not a SOCKS5 proxy');
  if (method[1] === 2 && withAuth) {
    const user = Buffer.from(proxy.username ?? '', 'utf8');
    const pass = Buffer.from(proxy.password ?? '', 'utf8');
    if (user.length > 255 || pass.length > 255) throw new TransportError('BAD_ROUTE', 'SOCKS credentials too long');
    stream.write(Buffer.concat([Buffer.from([1, user.length]), user, Buffer.from([pass.length]), pass]));
    const auth = await readReply(stream, (b) => (b.length >= 2 ? 2 : -1), timeoutMs);
    if (auth[1] !== 0) throw new TransportError('PROXY_FAILED', 'SOCKS proxy rejected the credentials');
  } else if (method[1] !== 0) {
    throw new TransportError('PROXY_FAILED', 'SOCKS proxy accepts none of our authentication methods');
  }
  let address: Buffer;
  const family = isIP(host);
  if (family === 4) address = Buffer.from([1, ...host.split('.').map(Number)]);
  else if (family === 6) {
    const words = expandIpv6(host);
    address = Buffer.alloc(17);
    address[0] = 4;
    words.forEach((w, i) => address.writeUInt16BE(w, 1 + i * 2));
  } else {
    const name = Buffer.from(host, 'utf8');
    if (name.length > 255) throw new TransportError('BAD_ROUTE', 'host name too long for SOCKS');
    address = Buffer.concat([Buffer.from([3, name.length]), name]);
  }
  const portBytes = Buffer.alloc(2);
  portBytes.writeUInt16BE(port);
  stream.write(Buffer.concat([Buffer.from([5, 1, 0]), address, portBytes]));
  await readReply(
    stream,
    (b) => {
      if (b.length < 5) return -1;
      if (b[0] !== 5) throw new TransportError('PROXY_FAILED', 'bad SOCKS reply');
      if (b[1] !== 0) throw new TransportError('PROXY_FAILED', `SOCKS proxy: ${SOCKS_REPLY_TEXT[b[1]!] ?? 'refused'}`);
      const atyp = b[3];
      const len = atyp === 1 ? 10 : atyp === 4 ? 22 : atyp === 3 ? 7 + b[4]! : -2;
      if (len === -2) throw new TransportError('PROXY_FAILED', 'bad SOCKS reply address');
      return b.length >= len ? len : -1;
    },
    timeoutMs,
  );
}

function expandIpv6(ip: string): number[] {
  const [head = '', tail = ''] = ip.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = ip.includes('::') ? (tail === '' ? [] : tail.split(':')) : [];
  const missing = 8 - h.length - t.length;
  return [...h, ...Array<string>(Math.max(0, missing)).fill('0'), ...t].map((x) => parseInt(x, 16) || 0);
}

export async function httpConnectHandshake(stream: Duplex, proxy: ProxySpec, host: string, port: number, timeoutMs: number): Promise<void> {
  const authority = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
  if (proxy.username !== undefined) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`, 'utf8').toString('base64')}`);
  }
  stream.write(`${lines.join('\r\n')}\r\n\r\n`);
  const head = await readReply(
    stream,
    (b) => {
      const end = b.indexOf('\r\n\r\n');
      return end < 0 ? -1 : end + 4;
    },
    timeoutMs,
  );
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.toString('latin1'));
  if (status === null) throw new TransportError('PROXY_FAILED', 'not an HTTP proxy');
  if (status[1] !== '200') throw new TransportError('PROXY_FAILED', `HTTP proxy answered ${status[1]}`);
}

/** Parses socks5://, socks5h://, http:// proxy URLs (credentials allowed in the userinfo). */
export function parseProxyUrl(text: string): ProxySpec {
  let url: URL;
  try {
    url = new URL(text);
  } catch (cause) {
    throw new TransportError('BAD_ROUTE', 'proxy is not a URL', { cause });
  }
  const kind = url.protocol.slice(0, -1);
  if (kind !== 'socks5' && kind !== 'socks5h' && kind !== 'http') throw new TransportError('BAD_ROUTE', 'proxy must be socks5://, socks5h:// or http://');
  const port = Number(url.port || (kind === 'http' ? 80 : 1080));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) throw new TransportError('BAD_ROUTE', 'proxy host or port is invalid');
  return {
    kind,
    host,
    port,
    ...(url.username !== '' ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : {}),
  };
}

export function formatProxyUrl(proxy: ProxySpec): string {
  const cred = proxy.username !== undefined ? `${encodeURIComponent(proxy.username)}:${encodeURIComponent(proxy.password ?? '')}@` : '';
  const host = isIP(proxy.host) === 6 ? `[${proxy.host}]` : proxy.host;
  return `${proxy.kind}://${cred}${host}:${proxy.port}`;
}
