/**
 * What a rule sees and what it may decide. A rule is a plain object with optional hooks; the censor
 * calls them in list order and the first blocking verdict wins (delays from several rules combine
 * as the longest). Rules keep their own state (residual tables, rate windows), so re-installing the
 * same rule object with `censor.set()` keeps it and building a new one starts fresh.
 */
import type { Endpoint } from './address.js';
import type { ClientHello } from './client-hello.js';
import type { Clock } from './clock.js';
import type { Dialer } from './seams.js';

export type Direction = 'toServer' | 'toClient';

/** The censor's view of one TCP connection. Counters include only what the censor let through. */
export interface FlowInfo {
  readonly id: number;
  /** The client's address as the censor sees it (the dialer's client IP) and the real source port. */
  readonly client: Endpoint;
  readonly server: Endpoint;
  /** The name given to dial(), when the client dialed a name instead of an address. */
  readonly dialedName: string | undefined;
  /** TLS state of the client's first bytes: still reading, a ClientHello, or something else. */
  readonly tls: 'pending' | 'client-hello' | 'not-tls' | 'malformed';
  readonly clientHello: ClientHello | undefined;
  /** server_name of the ClientHello, lower-cased. */
  readonly sni: string | undefined;
  /** The first client->server data packet (one segment of at most MSS bytes), as FET and probers see it. */
  readonly firstClientPacket: Uint8Array | undefined;
  readonly openedAt: number;
  readonly bytesToServer: number;
  readonly bytesToClient: number;
  readonly packetsToServer: number;
  readonly packetsToClient: number;
  /** Directions the censor is silently dropping from now on. */
  readonly dropping: { readonly toServer: boolean; readonly toClient: boolean };
  readonly closed: boolean;
}

export interface Packet {
  readonly direction: Direction;
  readonly bytes: Uint8Array;
}

export interface ConnectAttempt {
  readonly client: { readonly ip: string };
  readonly server: Endpoint;
  readonly dialedName: string | undefined;
}

export type ConnectVerdict =
  | { readonly action: 'pass' }
  /** Drop the SYN: the dial fails with ETIMEDOUT when the client's timeout runs out. */
  | { readonly action: 'hang'; readonly reason: string }
  /** Answer the SYN with RST: the dial fails at once with ECONNREFUSED. */
  | { readonly action: 'reject'; readonly reason: string };

export type PacketVerdict =
  | { readonly action: 'pass' }
  /** Hold this packet for `ms` (order within a direction is always kept). */
  | { readonly action: 'delay'; readonly ms: number; readonly reason: string }
  /**
   * Drop this packet and every later one in the given direction(s). A TCP stream cannot skip bytes:
   * a dropped segment is retransmitted and dropped again, so a drop always stalls the direction.
   */
  | { readonly action: 'drop'; readonly direction: Direction | 'both'; readonly reason: string }
  /** Inject RST: both ends see ECONNRESET. */
  | { readonly action: 'reset'; readonly reason: string };

export type ResolveVerdict =
  | { readonly action: 'answer'; readonly addresses: readonly string[]; readonly reason: string }
  | { readonly action: 'nxdomain'; readonly reason: string };

export type LogAction = 'hang' | 'reject' | 'drop' | 'reset' | 'delay' | 'answer' | 'nxdomain' | 'probe' | 'block';

export interface LogEntry {
  /** Milliseconds since the censor was created, on its clock. */
  readonly at: number;
  readonly rule: string;
  readonly action: LogAction;
  readonly reason: string;
  readonly flowId?: number;
  readonly client?: string;
  readonly server?: string;
  readonly sni?: string;
  readonly name?: string;
}

export interface CensorContext {
  readonly clock: Clock;
  /** Uniform in [0, 1); injectable for determinism. */
  random(): number;
  /** Dials servers directly (not through the censor), e.g. for active probes. */
  readonly upstream: Dialer;
  log(entry: Omit<LogEntry, 'at'>): void;
  /** Re-evaluate every open flow, after a rule's own state changed (an address became blocked). */
  review(): void;
  /** Registers background work (probes) so `censor.settled()` can wait for it. */
  track(work: Promise<unknown>): void;
}

export interface Rule {
  readonly name: string;
  resolve?(ctx: CensorContext, name: string, client: { readonly ip: string }): ResolveVerdict | undefined;
  connect?(ctx: CensorContext, attempt: ConnectAttempt): ConnectVerdict | undefined;
  packet?(ctx: CensorContext, flow: FlowInfo, packet: Packet): PacketVerdict | undefined;
  /** Judges an open flow when the rule set changes (as if the rule had been on all along). */
  review?(ctx: CensorContext, flow: FlowInfo): PacketVerdict | undefined;
  /** Called when a flow ends, to free per-flow state. */
  flowClosed?(ctx: CensorContext, flow: FlowInfo): void;
  /** Called when the rule leaves the censor or the censor closes: cancel timers and probes. */
  dispose?(): void;
}
