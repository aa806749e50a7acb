/**
 * The censor: an object standing between a client and the network. Its dialer and resolver carry
 * every connection and lookup to the real destination, and pass what they see through an ordered
 * list of rules that may delay, drop or reset packets, refuse or swallow connects, and lie about names.
 *
 *   const censor = new Censor({ rules: [sniFilter({ names: ['relay.example'] })] });
 *   const socket = await censor.dialer.dial({ host: '127.0.0.1', port });   // a Duplex
 *   tls.connect({ socket, servername: 'relay.example' });                   // reset by the censor
 *
 * Everything it blocked is in `censor.log`; `censor.explain()` prints it for a failing test.
 */
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { formatEndpoint } from './address.js';
import { realClock } from './clock.js';
import type { Clock, TimerHandle } from './clock.js';
import { FlowPipe } from './censored-socket.js';
import type { Judgement } from './censored-socket.js';
import { LabError, NetError, toNetError } from './errors.js';
import { realDialer, realResolver } from './real-net.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './seams.js';
import type { DialOptions, Dialer, Resolver } from './seams.js';
import type { CensorContext, ConnectAttempt, ConnectVerdict, FlowInfo, LogEntry, Packet, PacketVerdict, Rule } from './types.js';

/** Ethernet MTU 1500 - IPv4 20 - TCP 20 - timestamps 12: the usual segment payload on the wire. */
export const DEFAULT_MSS = 1448;
/** The client address flows are attributed to when the dialer is not told another. */
export const DEFAULT_CLIENT_IP = '127.0.0.1';
/** Entries kept in censor.log before the oldest are discarded (long benchmarks). */
export const MAX_LOG_ENTRIES = 10_000;

export interface CensorOptions {
  readonly rules?: readonly Rule[];
  /** The network beyond the censor; realDialer / realResolver by default. */
  readonly upstreamDialer?: Dialer;
  readonly upstreamResolver?: Resolver;
  readonly clock?: Clock;
  /** Uniform in [0, 1), for probabilistic rules and random probes. */
  readonly random?: () => number;
  readonly clientIp?: string;
  readonly mss?: number;
  /** Called with every log entry as it happens (e.g. to print while debugging). */
  readonly onLog?: (entry: LogEntry) => void;
}

interface Hang {
  readonly reject: (err: NetError) => void;
  readonly timer: TimerHandle;
}

export class Censor {
  /** Dials through the censor as the default client (DEFAULT_CLIENT_IP unless configured). */
  readonly dialer: Dialer;
  /** Resolves through the censor. */
  readonly resolver: Resolver;
  readonly clock: Clock;
  private currentRules: readonly Rule[] = [];
  private readonly entries: LogEntry[] = [];
  private readonly flowsOpen = new Map<number, FlowPipe>();
  private readonly hangs = new Set<Hang>();
  private readonly work = new Set<Promise<unknown>>();
  private readonly listeners = new Set<(entry: LogEntry) => void>();
  private readonly context: CensorContext;
  private readonly startedAt: number;
  private readonly mss: number;
  private nextFlowId = 1;
  private closed = false;

  constructor(private readonly options: CensorOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.startedAt = this.clock.now();
    this.mss = options.mss ?? DEFAULT_MSS;
    if (!Number.isInteger(this.mss) || this.mss < 1 || this.mss > 65_535) throw new LabError('BAD_OPTION', 'mss must be 1..65535');
    const clientIp = options.clientIp ?? DEFAULT_CLIENT_IP;
    if (isIP(clientIp) === 0) throw new LabError('BAD_OPTION', 'clientIp must be an IP address');
    const upstream = options.upstreamDialer ?? realDialer;
    this.context = {
      clock: this.clock,
      random: options.random ?? Math.random,
      upstream,
      log: (entry) => this.record(entry),
      review: () => this.review(),
      track: (work) => this.track(work),
    };
    this.dialer = this.dialerFor(clientIp);
    this.resolver = {
      resolve: (name) => this.resolve(name, { ip: clientIp }),
    };
    this.set(options.rules ?? []);
  }

  /** A dialer whose connections the censor attributes to `clientIp` (to model several users). */
  dialerFor(clientIp: string): Dialer {
    if (isIP(clientIp) === 0) throw new LabError('BAD_OPTION', 'clientIp must be an IP address');
    return { dial: (options) => this.dial(options, options.localAddress ?? clientIp) };
  }

  get rules(): readonly Rule[] {
    return this.currentRules;
  }

  /**
   * Replaces the rule list at run time (switch the censor on mid-conversation, or off).
   * Open flows are re-judged at once by every rule's `review` hook, as if it had been on all along.
   */
  set(rules: readonly Rule[]): void {
    if (this.closed) throw new LabError('BAD_STATE', 'censor is closed');
    const names = new Set<string>();
    for (const r of rules) {
      if (names.has(r.name)) throw new LabError('BAD_OPTION', `two rules named ${r.name}; give one a name`);
      names.add(r.name);
    }
    for (const old of this.currentRules) if (!rules.includes(old)) old.dispose?.();
    this.currentRules = [...rules];
    this.review();
  }

  get log(): readonly LogEntry[] {
    return this.entries;
  }

  /** Open flows as the censor sees them. */
  flows(): FlowInfo[] {
    return [...this.flowsOpen.values()].map((f) => f.info);
  }

  /** One line per log entry, for assertion messages: what was blocked, by which rule, and why. */
  explain(): string {
    if (this.entries.length === 0) return 'censor: nothing blocked, delayed or answered falsely';
    const rulesLine = `censor rules: ${this.currentRules.map((r) => r.name).join(', ') || '(none)'}`;
    const lines = this.entries.map((e) => {
      const t = `+${(e.at / 1000).toFixed(3)}s`;
      const flow = e.flowId !== undefined ? ` flow#${e.flowId} ${e.client ?? '?'} -> ${e.server ?? '?'}` : e.server !== undefined ? ` ${e.client ?? '?'} -> ${e.server}` : '';
      const sni = e.sni !== undefined ? ` sni=${e.sni}` : '';
      const name = e.name !== undefined ? ` name=${e.name}` : '';
      return `${t} ${e.rule} ${e.action}${flow}${sni}${name}: ${e.reason}`;
    });
    return [rulesLine, ...lines].join('\n');
  }

  /** Resolves with the first log entry (past or future) that matches; rejects after `timeoutMs` of real time. */
  waitFor(match: (entry: LogEntry) => boolean, timeoutMs = 10_000): Promise<LogEntry> {
    const seen = this.entries.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<LogEntry>((resolve, reject) => {
      const listener = (entry: LogEntry) => {
        if (!match(entry)) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(entry);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new LabError('BAD_STATE', `no matching censor log entry within ${timeoutMs} ms\n${this.explain()}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  /** Waits until background work (active probes) has finished. */
  async settled(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /** Ends every flow and pending dial, cancels rule timers. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.currentRules) r.dispose?.();
    for (const hang of [...this.hangs]) hang.reject(new NetError('ECONNABORTED', 'censor closed'));
    for (const flow of [...this.flowsOpen.values()]) {
      flow.close();
      flow.socket.destroy();
    }
    await this.settled();
  }

  // --- internals ---

  private async resolve(name: string, client: { ip: string }): Promise<string[]> {
    if (this.closed) throw new NetError('ENOTFOUND', 'censor is closed');
    for (const rule of this.currentRules) {
      const verdict = rule.resolve?.(this.context, name, client);
      if (verdict === undefined) continue;
      this.record({ rule: rule.name, action: verdict.action, reason: verdict.reason, name, client: client.ip });
      if (verdict.action === 'nxdomain') throw new NetError('ENOTFOUND', `no address for ${name}`);
      return [...verdict.addresses];
    }
    return (this.options.upstreamResolver ?? realResolver).resolve(name);
  }

  private async dial(options: DialOptions, clientIp: string): Promise<Duplex> {
    if (this.closed) throw new NetError('ECONNABORTED', 'censor is closed');
    if (options.signal?.aborted === true) throw new NetError('ECONNABORTED', 'dial aborted');
    let ip = options.host;
    let dialedName: string | undefined;
    if (isIP(options.host) === 0) {
      dialedName = options.host;
      const addresses = await this.resolve(options.host, { ip: clientIp });
      const first = addresses[0];
      if (first === undefined) throw new NetError('ENOTFOUND', `no address for ${options.host}`);
      ip = first;
    }
    const attempt: ConnectAttempt = { client: { ip: clientIp }, server: { ip, port: options.port }, dialedName };
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const verdict = this.judgeConnect(attempt);
    if (verdict.action === 'reject') throw new NetError('ECONNREFUSED', `connect to ${formatEndpoint(attempt.server)} refused`);
    if (verdict.action === 'hang') await this.hang(timeoutMs, options.signal, attempt);
    let upstream: Duplex;
    try {
      upstream = await this.context.upstream.dial({
        host: ip,
        port: options.port,
        timeoutMs,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      });
    } catch (err) {
      throw toNetError(err, 'EHOSTUNREACH');
    }
    if (this.closed) {
      upstream.destroy();
      throw new NetError('ECONNABORTED', 'censor is closed');
    }
    const localPort = (upstream as { localPort?: number }).localPort ?? 0;
    const pipe = new FlowPipe(
      {
        clock: this.clock,
        mss: this.mss,
        judge: (flow, packet) => this.judgePacket(flow, packet),
        applied: (flow, j) => this.recordFlow(flow, j.rule, j.verdict),
        flowClosed: (f) => this.flowEnded(f),
      },
      this.nextFlowId++,
      { ip: clientIp, port: localPort },
      attempt.server,
      dialedName,
      upstream,
    );
    this.flowsOpen.set(pipe.info.id, pipe);
    return pipe.socket;
  }

  /** A dropped SYN: nothing comes back, so the dial fails only when the client's own timeout runs out. */
  private hang(timeoutMs: number, signal: AbortSignal | undefined, attempt: ConnectAttempt): Promise<never> {
    return new Promise<never>((_resolve, reject) => {
      const done = (err: NetError) => {
        this.clock.clearTimeout(hang.timer);
        this.hangs.delete(hang);
        signal?.removeEventListener('abort', onAbort);
        reject(err);
      };
      const onAbort = () => done(new NetError('ECONNABORTED', 'dial aborted'));
      const hang: Hang = {
        reject: done,
        timer: this.clock.setTimeout(
          () => done(new NetError('ETIMEDOUT', `connect to ${formatEndpoint(attempt.server)} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        ),
      };
      this.hangs.add(hang);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private judgeConnect(attempt: ConnectAttempt): ConnectVerdict {
    for (const rule of this.currentRules) {
      const verdict = rule.connect?.(this.context, attempt);
      if (verdict === undefined || verdict.action === 'pass') continue;
      this.record({
        rule: rule.name,
        action: verdict.action,
        reason: verdict.reason,
        client: attempt.client.ip,
        server: formatEndpoint(attempt.server),
        ...(attempt.dialedName !== undefined ? { name: attempt.dialedName } : {}),
      });
      return verdict;
    }
    return { action: 'pass' };
  }

  /** Rules in order; the first drop or reset wins; delays combine as the longest. */
  private judgePacket(flow: FlowInfo, packet: Packet): Judgement {
    let delay: { rule: string; verdict: PacketVerdict & { action: 'delay' } } | undefined;
    for (const rule of this.currentRules) {
      const verdict = rule.packet?.(this.context, flow, packet);
      if (verdict === undefined || verdict.action === 'pass') continue;
      if (verdict.action === 'delay') {
        if (delay === undefined || verdict.ms > delay.verdict.ms) delay = { rule: rule.name, verdict };
        continue;
      }
      return { rule: rule.name, verdict };
    }
    return delay ?? { rule: '', verdict: { action: 'pass' } };
  }

  private review(): void {
    for (const pipe of [...this.flowsOpen.values()]) {
      for (const rule of this.currentRules) {
        if (pipe.info.closed) break;
        const verdict = rule.review?.(this.context, pipe.info);
        if (verdict === undefined || verdict.action === 'pass' || verdict.action === 'delay') continue;
        pipe.apply({ rule: rule.name, verdict });
      }
    }
  }

  private delayLogged = new Set<string>();

  /** Logs a verdict applied to a flow; delays only once per flow and rule (they apply to every packet). */
  private recordFlow(flow: FlowInfo, rule: string, verdict: Exclude<PacketVerdict, { action: 'pass' }>): void {
    const reason = verdict.reason;
    if (verdict.action === 'delay') {
      const key = `${flow.id}/${rule}`;
      if (this.delayLogged.has(key)) return;
      this.delayLogged.add(key);
    }
    const what = verdict.action === 'drop' ? `${reason} (dropping ${verdict.direction === 'both' ? 'both directions' : verdict.direction})` : reason;
    this.record({
      rule,
      action: verdict.action,
      reason: what,
      flowId: flow.id,
      client: formatEndpoint(flow.client),
      server: formatEndpoint(flow.server),
      ...(flow.sni !== undefined ? { sni: flow.sni } : {}),
    });
  }

  private flowEnded(pipe: FlowPipe): void {
    this.flowsOpen.delete(pipe.info.id);
    for (const key of this.delayLogged) if (key.startsWith(`${pipe.info.id}/`)) this.delayLogged.delete(key);
    for (const rule of this.currentRules) rule.flowClosed?.(this.context, pipe.info);
  }

  private record(entry: Omit<LogEntry, 'at'>): void {
    const full: LogEntry = { at: this.clock.now() - this.startedAt, ...entry };
    this.entries.push(full);
    if (this.entries.length > MAX_LOG_ENTRIES) this.entries.splice(0, this.entries.length - MAX_LOG_ENTRIES);
    this.options.onLog?.(full);
    for (const l of [...this.listeners]) l(full);
  }

  private track(work: Promise<unknown>): void {
    const p = work.then(
      () => undefined,
      () => undefined,
    );
    this.work.add(p);
    void p.then(() => this.work.delete(p));
  }
}
