/**
 * Builds one stream step by step: DNS -> TCP -> (proxy) -> (TLS + pin). Every route is a plan
 * for this function plus what runs on top (WebSocket upgrade, tunnel exchanges). Each step is
 * reported to `onStep` (that is what `pigeon doctor` prints) and fails with its own code, so a
 * censor's work is attributed to the right layer: DNS_FAILED for poisoning, CONNECT_FAILED for IP
 * blocking, TLS_FAILED for SNI filtering and allowlists.
 */
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { checkServerIdentity as tlsCheckIdentity, connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { TransportError, errnoOf } from './errors.js';
import { browserTlsOptions } from './browser-tls.js';
import { httpConnectHandshake, socks5Handshake } from './proxy.js';
import type { ProxySpec } from './proxy.js';
import { DEFAULT_DIAL_TIMEOUT_MS } from './seams.js';
import type { NetSeams } from './seams.js';

export interface TlsPlan {
  /** SNI; undefined sends none (an IP literal host never carries SNI, as in browsers). */
  readonly servername?: string;
  /** SHA-256 of the server certificate (DER), hex. When set, the pin is the only authentication. */
  readonly pinSha256?: string;
  /** Extra trust anchors (PEM) for a relay with a private CA; ignored when pinned. */
  readonly ca?: string;
  readonly alpn: readonly string[];
}

export interface StreamPlan {
  readonly host: string;
  readonly port: number;
  readonly proxy?: ProxySpec;
  readonly tls?: TlsPlan;
  /** Budget of each step (dial, proxy reply, TLS handshake). */
  readonly stepTimeoutMs?: number;
}

export type StepName = 'dns' | 'tcp' | 'proxy' | 'tls' | 'websocket' | 'tunnel' | 'relay';

export interface StepReport {
  readonly step: StepName;
  readonly ok: boolean;
  readonly ms: number;
  /** e.g. resolved addresses, negotiated ALPN, or the failure code. */
  readonly detail: string;
}

export interface OpenOptions {
  readonly signal?: AbortSignal;
  readonly onStep?: (report: StepReport) => void;
  readonly localAddress?: string;
}

function stepper(onStep: OpenOptions['onStep']) {
  return async <T>(step: StepName, run: () => Promise<T>, describe: (v: T) => string): Promise<T> => {
    const started = Date.now();
    try {
      const value = await run();
      onStep?.({ step, ok: true, ms: Date.now() - started, detail: describe(value) });
      return value;
    } catch (err) {
      const code = err instanceof TransportError ? err.code : (errnoOf(err) ?? 'UNKNOWN');
      const cause = err instanceof TransportError ? errnoOf(err.cause) : undefined;
      onStep?.({ step, ok: false, ms: Date.now() - started, detail: cause !== undefined ? `${code} (${cause})` : code });
      throw err;
    }
  };
}

export function normalizePin(pin: string): string {
  return pin.replace(/:/g, '').toLowerCase();
}

/** Waits for the TLS handshake and checks the pin before a single application byte is written. */
function handshake(socket: TLSSocket, plan: TlsPlan, timeoutMs: number): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onSecure = () => {
      if (plan.pinSha256 !== undefined) {
        const got = socket.getPeerX509Certificate()?.fingerprint256;
        if (got === undefined || normalizePin(got) !== normalizePin(plan.pinSha256)) {
          fail(new TransportError('PIN_MISMATCH', 'the server certificate is not the pinned one'));
          return;
        }
      } else if (!socket.authorized) {
        fail(new TransportError('TLS_FAILED', 'untrusted certificate', { cause: socket.authorizationError }));
        return;
      }
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error) => fail(new TransportError('TLS_FAILED', 'TLS handshake failed', { cause: err }));
    const onClose = () => fail(new TransportError('TLS_FAILED', 'connection closed during the TLS handshake'));
    // A ClientHello dropped by an SNI filter or an allowlist shows up as silence: time it out.
    const timer = setTimeout(() => fail(new TransportError('TLS_FAILED', 'TLS handshake stalled', { cause: Object.assign(new Error('stalled'), { code: 'ETIMEDOUT' }) })), timeoutMs);
    socket.once('secureConnect', onSecure);
    socket.on('error', onError);
    socket.once('close', onClose);
  });
}

export function wrapTls(raw: Duplex, plan: TlsPlan, timeoutMs: number): Promise<TLSSocket> {
  const servername = plan.servername !== undefined && isIP(plan.servername) === 0 ? plan.servername : undefined;
  const socket = tlsConnect({
    socket: raw,
    ...browserTlsOptions(),
    ALPNProtocols: [...plan.alpn],
    ...(servername !== undefined ? { servername } : {}),
    // With a pin we verify the certificate ourselves (self-signed bridge certificates); otherwise
    // the normal chain and name check applies, and onSecure rejects an unauthorized peer.
    rejectUnauthorized: false,
    ...(plan.ca !== undefined && plan.pinSha256 === undefined ? { ca: plan.ca } : {}),
    // Names are checked by hand below only when not pinned; keep Node's check for that case.
    checkServerIdentity: () => undefined,
  });
  const ready = handshake(socket, plan, timeoutMs);
  if (plan.pinSha256 !== undefined || servername === undefined) return ready;
  return ready.then((s) => {
    const cert = s.getPeerCertificate();
    const err = tlsCheckIdentity(servername, cert);
    if (err !== undefined) {
      s.destroy();
      throw new TransportError('TLS_FAILED', 'certificate does not match the server name', { cause: err });
    }
    return s;
  });
}

/** Opens the stream the plan describes; every failure is a TransportError naming its step. */
export async function openStream(plan: StreamPlan, net: NetSeams, options: OpenOptions = {}): Promise<Duplex> {
  const step = stepper(options.onStep);
  const timeoutMs = plan.stepTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  const first = plan.proxy !== undefined ? { host: plan.proxy.host, port: plan.proxy.port } : { host: plan.host, port: plan.port };
  const addresses = await step(
    'dns',
    async () => {
      try {
        return await net.resolver.resolve(first.host);
      } catch (err) {
        throw new TransportError('DNS_FAILED', `cannot resolve ${first.host}`, { cause: err });
      }
    },
    (a) => a.join(' '),
  );
  const raw = await step(
    'tcp',
    async () => {
      let lastErr: unknown;
      for (const ip of addresses.slice(0, 2)) {
        try {
          return await net.dialer.dial({
            host: ip,
            port: first.port,
            timeoutMs,
            ...(options.signal !== undefined ? { signal: options.signal } : {}),
            ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
          });
        } catch (err) {
          lastErr = err;
        }
      }
      throw new TransportError('CONNECT_FAILED', `cannot connect to ${first.host}:${first.port}`, { cause: lastErr });
    },
    () => `${first.host}:${first.port}`,
  );
  const onAbort = () => raw.destroy();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (plan.proxy !== undefined) {
      const proxy = plan.proxy;
      await step(
        'proxy',
        async () => {
          let target = plan.host;
          // socks5 (no h) and CONNECT-by-IP: resolve here; socks5h and CONNECT pass the name on.
          if (proxy.kind === 'socks5' && isIP(target) === 0) {
            const ips = await net.resolver.resolve(target).catch((err: unknown) => {
              throw new TransportError('DNS_FAILED', `cannot resolve ${target}`, { cause: err });
            });
            target = ips[0] ?? target;
          }
          if (proxy.kind === 'http') await httpConnectHandshake(raw, proxy, target, plan.port, timeoutMs);
          else await socks5Handshake(raw, proxy, target, plan.port, timeoutMs);
          // The stream stays paused; the next layer (TLS, or the WebSocket's reader) resumes it.
        },
        () => `${proxy.kind} ${proxy.host}:${proxy.port}`,
      );
    }
    if (plan.tls === undefined) return raw;
    const tlsPlan = plan.tls;
    return await step(
      'tls',
      () => wrapTls(raw, tlsPlan, timeoutMs),
      (s) => `${s.getProtocol() ?? 'TLS'} alpn=${s.alpnProtocol || 'none'}${tlsPlan.pinSha256 !== undefined ? ' pinned' : ''}`,
    );
  } catch (err) {
    raw.destroy();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}
