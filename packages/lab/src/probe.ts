/**
 * The active prober's eyes: send one probe to a server on a fresh connection, collect what comes
 * back, and classify it. Kept apart from the rule so it can be tested (and used by benchmarks) alone.
 *
 * What counts as "an ordinary website" (the classification is the lab's, written down here because
 * the GFW's own is not public; Alice et al., IMC 2020, and Wu et al., USENIX Security 2023, describe
 * the probes and that the prober reacts to how servers answer them):
 *   ordinary      an HTTP response other than 101/426; TLS records (ServerHello or alert) from a TLS
 *                 server; for a TLS server, a close without answer (OpenSSL closes on non-TLS bytes).
 *   suspicious    101 Switching Protocols (a WebSocket endpoint that accepts a replayed upgrade);
 *                 426 Upgrade Required (an endpoint that speaks only WebSocket); bytes that are neither
 *                 HTTP nor TLS (a protocol answering in its own format); for a plain-TCP server, a close
 *                 without any answer (an HTTP server answers garbage with 400; proxies just hang up).
 *   inconclusive  no answer while the connection stays open; connect failure.
 */
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Clock } from './clock.js';
import type { Endpoint } from './address.js';
import type { Dialer } from './seams.js';

/** Bytes of an answer the prober reads before judging. */
export const MAX_PROBE_RESPONSE_BYTES = 4096;
/** "HTTP/1.1 200" is 12 bytes; a TLS record header 5. */
const ANSWER_BYTES_TO_CLASSIFY = 12;
/** How long the prober waits for an answer. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;

export type ProbeKind = 'replay' | 'altered-replay' | 'random' | 'http-get' | 'websocket-upgrade';

export type ProbeOutcome =
  | 'http-response'
  | 'tls-response'
  | 'closed-by-tls-server'
  | 'websocket-upgrade'
  | 'upgrade-required'
  | 'unknown-protocol'
  | 'closed-without-answer'
  | 'no-answer'
  | 'unreachable';

export type ProbeClass = 'ordinary' | 'suspicious' | 'inconclusive';

export interface ProbeResult {
  readonly kind: ProbeKind;
  readonly sentBytes: number;
  readonly outcome: ProbeOutcome;
  readonly class: ProbeClass;
  /** First line of an HTTP answer, or a short hex prefix of anything else. */
  readonly summary: string;
}

export interface ProbeTarget {
  readonly server: Endpoint;
  /** Whether the original flow was TLS: decides what a silent close means, and HTTP probes go over TLS. */
  readonly tls: boolean;
  readonly sni: string | undefined;
}

export interface Probe {
  readonly kind: ProbeKind;
  readonly payload: Uint8Array;
}

const CLASS: Record<ProbeOutcome, ProbeClass> = {
  'http-response': 'ordinary',
  'tls-response': 'ordinary',
  'closed-by-tls-server': 'ordinary',
  'websocket-upgrade': 'suspicious',
  'upgrade-required': 'suspicious',
  'unknown-protocol': 'suspicious',
  'closed-without-answer': 'suspicious',
  'no-answer': 'inconclusive',
  unreachable: 'inconclusive',
};

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/** Builds the probe payloads from the suspicious flow's first packet. */
export function buildProbes(kinds: readonly ProbeKind[], firstPacket: Uint8Array, target: ProbeTarget, random: () => number, randomLengths: readonly number[]): Probe[] {
  const host = target.sni ?? target.server.ip;
  let r = 0;
  return kinds.map((kind): Probe => {
    switch (kind) {
      case 'replay':
        return { kind, payload: firstPacket.slice() };
      case 'altered-replay': {
        // Replays with some bytes changed (Alice et al. saw changes at fixed offsets such as byte 0 and bytes 8-16).
        const p = firstPacket.slice();
        for (const i of [0, 8, 12, 16]) if (i < p.length) p[i] = (p[i] as number) ^ 0xff;
        return { kind, payload: p };
      }
      case 'random': {
        const length = randomLengths[r++ % Math.max(1, randomLengths.length)] ?? 221;
        return { kind, payload: Uint8Array.from({ length }, () => Math.floor(random() * 256)) };
      }
      case 'http-get':
        return { kind, payload: ascii(`GET / HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nConnection: close\r\n\r\n`) };
      case 'websocket-upgrade': {
        const key = Buffer.from(Uint8Array.from({ length: 16 }, () => Math.floor(random() * 256))).toString('base64');
        return {
          kind,
          payload: ascii(
            `GET / HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
          ),
        };
      }
    }
  });
}

/** Classifies an answer (or its absence) to one probe. */
export function classifyAnswer(answer: Uint8Array, closed: boolean, tls: boolean): ProbeOutcome {
  if (answer.length === 0) return closed ? (tls ? 'closed-by-tls-server' : 'closed-without-answer') : 'no-answer';
  const head = Buffer.from(answer.subarray(0, Math.min(answer.length, 256))).toString('latin1');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (status !== null) {
    if (status[1] === '101') return 'websocket-upgrade';
    if (status[1] === '426') return 'upgrade-required';
    return 'http-response';
  }
  const [type, major] = answer;
  if ((type === 0x15 || type === 0x16) && major === 0x03) return 'tls-response';
  return 'unknown-protocol';
}

function summarize(answer: Uint8Array): string {
  if (answer.length === 0) return '(nothing)';
  const text = Buffer.from(answer.subarray(0, 120)).toString('latin1');
  const line = /^HTTP\/1\.[01] [^\r\n]*/.exec(text);
  if (line !== null) return line[0];
  return `${Buffer.from(answer.subarray(0, 8)).toString('hex')}... (${answer.length} bytes)`;
}

/**
 * Sends one probe and waits for the answer: until the server closes, MAX_PROBE_RESPONSE_BYTES
 * arrived, or `timeoutMs` passed. HTTP probes to a TLS server go inside a TLS session (with the
 * flow's SNI, certificate unchecked) as a prober that wants to see the website would do.
 */
export async function runProbe(dialer: Dialer, clock: Clock, target: ProbeTarget, probe: Probe, timeoutMs: number, cancelled: () => boolean): Promise<ProbeResult> {
  const overTls = target.tls && (probe.kind === 'http-get' || probe.kind === 'websocket-upgrade');
  let socket: Duplex;
  try {
    const raw = await dialer.dial({ host: target.server.ip, port: target.server.port, timeoutMs });
    socket = overTls
      ? tlsConnect({ socket: raw, rejectUnauthorized: false, ...(target.sni !== undefined ? { servername: target.sni } : {}), ALPNProtocols: ['http/1.1'] })
      : raw;
  } catch {
    return { kind: probe.kind, sentBytes: probe.payload.length, outcome: 'unreachable', class: 'inconclusive', summary: 'connect failed' };
  }
  const { answer, closed } = await new Promise<{ answer: Uint8Array; closed: boolean }>((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (closedBy: boolean) => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      socket.destroy();
      resolve({ answer: new Uint8Array(Buffer.concat(chunks)).subarray(0, MAX_PROBE_RESPONSE_BYTES), closed: closedBy });
    };
    const timer = clock.setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      // The status line or a TLS record header is all the classification reads: stop there
      // instead of waiting for a keep-alive server to close.
      if (size >= ANSWER_BYTES_TO_CLASSIFY || cancelled()) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    if (cancelled()) finish(false);
    else socket.write(probe.payload);
  });
  // With TLS, a failed handshake shows up as a close: the outer TLS server's answer, not the site's.
  const outcome = overTls && answer.length === 0 && closed ? 'closed-by-tls-server' : classifyAnswer(answer, closed, target.tls);
  return { kind: probe.kind, sentBytes: probe.payload.length, outcome, class: CLASS[outcome], summary: summarize(answer) };
}
