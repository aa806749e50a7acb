/**
 * SDK-level group benchmark (`npm run bench:groups`): what ONE group message costs its sender.
 *
 * The sender is a real SDK client (@pigeon/client over SQLite) in this process; the relay
 * (the real createRelay, ../delivery/relay-child.ts) and the members (./members-child.ts: a few
 * real SDK clients, the rest protocol-level light members) run in child processes, so
 * process.cpuUsage() here is the sender's work: Sender-Key encryption once, then one sealed
 * pairwise envelope per member device, written to the outbox and sent to the relay.
 * Measured per message (median over --messages): the sender's CPU time in groups.send()
 * (encrypt + seal + commit) and until the relay took every envelope (flush), the sealed bytes
 * sent (sum of the envelopes the outbox holds for that message), and the members that got it.
 * Setup is the SDK's own groups.create (docs/protocol.md §12.11: the roster and member cards go
 * once to the blob store, each newcomer gets a reference); its cost is reported too: sealed bytes
 * of every envelope the creator queued, plus the blob it uploaded. `--inline-welcome` forces the
 * old inline welcome (every newcomer gets every card) for comparison.
 */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultBackend } from '@pigeon/crypto';
import { PigeonClient, SqliteGroupStore, nodeSocketFactory, openSqliteStore, welcomeThreshold } from '@pigeon/client';
import { formatMs, median, table } from '../common/stats.js';
import { loadLine, writeResults } from '../common/results.js';
import type { FromRelay, ToRelay } from '../delivery/ipc.js';
import type { FromMembers, ToMembers } from './ipc.js';

export interface GroupBenchOptions {
  /** Group sizes, the sender included (the protocol allows up to 1,000 members). */
  readonly sizes: readonly number[];
  /** Measured messages per size (after one warm-up message). */
  readonly messages: number;
  /** Real SDK clients among the members (the rest are light members). */
  readonly real: number;
  /** Create with the inline welcome (every card to every newcomer) instead of the welcome blob. */
  readonly inlineWelcome?: boolean;
}

export const DEFAULT_GROUP_OPTIONS: GroupBenchOptions = { sizes: [100, 1000], messages: 5, real: 3 };

/** How long one message may take to reach every member before the run reports what it has. */
const RECEIVE_TIMEOUT_MS = 60_000;
const FLUSH_TIMEOUT_MS = 120_000;
const INLINE_FLUSH_TIMEOUT_MS = 20 * 60_000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** A child with typed IPC: `ask` sends one message and waits for the first reply of a kind. */
function child<To, From extends { type: string }>(script: string): { proc: ChildProcess; ask<K extends From['type']>(message: To, kind: K): Promise<Extract<From, { type: K }>> } {
  const proc = fork(here(script), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return {
    proc,
    ask: (message, kind) =>
      new Promise((resolve, reject) => {
        const onMessage = (m: From) => {
          if (m.type === 'failed') {
            proc.off('message', onMessage);
            reject(new Error(`${script}: ${(m as unknown as { reason: string }).reason}`));
          } else if (m.type === kind) {
            proc.off('message', onMessage);
            resolve(m as Extract<From, { type: typeof kind }>);
          }
        };
        proc.on('message', onMessage);
        proc.send(message as object);
      }),
  };
}

/** Sealed bytes per content id, counted where the SDK commits its outbox rows. */
class OutboxMeter {
  readonly bytes = new Map<string, number>();
  readonly envelopes = new Map<string, number>();
  /** The same, for envelopes to members whose sessions answered (the real members). */
  readonly answeredBytes = new Map<string, number>();
  readonly answeredEnvelopes = new Map<string, number>();
  readonly answered = new Set<string>();
  /** Every envelope, whatever it carries (group changes, welcomes and cards have no message id). */
  totalBytes = 0;
  totalEnvelopes = 0;
  /** Blob bytes uploaded for welcomes (from the client's `group.welcome_by_blob` log event). */
  welcomeBlobBytes = 0;
  add(messageId: string | null, contactId: string, envelope: Uint8Array): void {
    this.totalBytes += envelope.length;
    this.totalEnvelopes++;
    if (messageId === null) return;
    const bump = (m: Map<string, number>, n: number) => m.set(messageId, (m.get(messageId) ?? 0) + n);
    bump(this.bytes, envelope.length);
    bump(this.envelopes, 1);
    if (!this.answered.has(contactId)) return;
    bump(this.answeredBytes, envelope.length);
    bump(this.answeredEnvelopes, 1);
  }
}

/** The sender: PigeonClient.open's setup, with the outbox metered. */
async function openSender(home: string, meter: OutboxMeter): Promise<{ client: PigeonClient; groupStore: SqliteGroupStore }> {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const store = openSqliteStore(join(home, 'pigeon.db'));
  const putOutbox = store.putOutbox.bind(store);
  store.putOutbox = (row) => {
    meter.add(row.messageId, row.contactId, row.envelope);
    putOutbox(row);
  };
  const groupStore = new SqliteGroupStore(store.db);
  const logger = (event: string, fields?: Record<string, unknown>) => {
    if (event === 'group.welcome_by_blob' && typeof fields?.blobBytes === 'number') meter.welcomeBlobBytes += fields.blobBytes;
  };
  const client = await PigeonClient.create({ store, groupStore, crypto: defaultBackend(), socketFactory: nodeSocketFactory, connectTimeoutMs: 30_000, logger });
  return { client, groupStore };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

interface SizeResult {
  readonly size: number;
  readonly createMs: number;
  /** What groups.create cost the creator: sealed bytes and envelopes queued, and the welcome blob uploaded. */
  readonly createSealedBytes: number;
  readonly createEnvelopes: number;
  readonly createBlobBytes: number;
  readonly envelopes: number;
  readonly bytes: number;
  /** Bytes per envelope to members whose sessions answered (no prekey header any more). */
  readonly answeredPerEnvelope: number;
  readonly cpuSendMs: number;
  readonly cpuFlushMs: number;
  readonly wallMs: number;
  readonly received: number;
  readonly expected: number;
}

export async function runGroupBenchmark(options: GroupBenchOptions): Promise<void> {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1]!;
  if (largest > 1_000 || sizes[0]! < options.real + 2) throw new Error(`group sizes must be ${options.real + 2}..1000`);
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-bench-groups-'));
  const relay = child<ToRelay, FromRelay>('../delivery/relay-child.js');
  const members = child<ToMembers, FromMembers>('./members-child.js');
  let sender: PigeonClient | undefined;
  const started = performance.now();
  try {
    const { url } = await relay.ask({ type: 'start', dataDir: join(dir, 'relay'), durability: 'normal' }, 'listening');
    const lightCount = largest - 1 - options.real;
    console.log(`group benchmark: sizes ${sizes.join(', ')}; ${options.real} real SDK members + ${lightCount} light members; ${options.messages} messages per size`);
    const ready = await members.ask({ type: 'setup', url, light: lightCount, real: options.real, home: join(dir, 'members') }, 'ready');
    console.log(`  members ready in ${formatMs(ready.ms)} ms`);

    const meter = new OutboxMeter();
    const opened = await openSender(join(dir, 'sender'), meter);
    sender = opened.client;
    await sender.init({ relayUrl: url, displayName: 'sender' });
    await sender.connect();
    const t0 = performance.now();
    const contactIds: string[] = [];
    for (const link of ready.links) contactIds.push((await sender.acceptInvite(link)).id);
    for (const id of ready.realIds) meter.answered.add(id);
    // Real members answer once: the sender's sessions with them are then acknowledged (no prekey header).
    await members.ask({ type: 'greet', senderId: sender.profile().accountId }, 'greeted');
    await waitFor(() => sender!.unread().length >= options.real, 'greetings');
    await sender.flush(FLUSH_TIMEOUT_MS);
    console.log(`  sender has ${contactIds.length} contacts (${formatMs(performance.now() - t0)} ms)`);

    // The old welcome, for comparison: every newcomer gets every card and the roster inline.
    if (options.inlineWelcome) welcomeThreshold.inlineMaxCards = Number.POSITIVE_INFINITY;
    const results: SizeResult[] = [];
    for (const size of sizes) {
      const light = size - 1 - options.real;
      const ids = contactIds.slice(0, options.real + light);
      const c0 = performance.now();
      const before = { bytes: meter.totalBytes, envelopes: meter.totalEnvelopes, blob: meter.welcomeBlobBytes };
      // The SDK's own create: every member (light and real) gets the welcome, by blob or inline.
      const created = await sender.groups.create(`bench-${size}`, ids);
      // Every envelope of the creation is in the outbox once create() resolved.
      const createSealedBytes = meter.totalBytes - before.bytes;
      const createEnvelopes = meter.totalEnvelopes - before.envelopes;
      const createBlobBytes = meter.welcomeBlobBytes - before.blob;
      // The inline welcome of 1,000 is ~200 MB for the relay to take: give it the time.
      await sender.flush(options.inlineWelcome ? INLINE_FLUSH_TIMEOUT_MS : FLUSH_TIMEOUT_MS);
      const group = sender.groups.find(created.id);
      if (group.members.length !== size) throw new Error(`group has ${group.members.length} members, not ${size}`);
      const createMs = performance.now() - c0;
      // One warm-up message creates the sender's own sender key (a send after a rekey costs the same).
      await sender.groups.send(group.id, `warm-up ${size}`);
      await sender.flush(FLUSH_TIMEOUT_MS);

      const samples: Omit<SizeResult, 'size' | 'createMs' | 'createSealedBytes' | 'createEnvelopes' | 'createBlobBytes' | 'expected'>[] = [];
      for (let i = 0; i < options.messages; i++) {
        const label = `bench ${size} #${i}`;
        await members.ask({ type: 'expect', label, light }, 'expecting');
        const w0 = performance.now();
        const u0 = process.cpuUsage();
        const m = await sender.groups.send(group.id, label);
        const cpuSend = cpuMs(process.cpuUsage(u0));
        await sender.flush(FLUSH_TIMEOUT_MS);
        const cpuFlush = cpuMs(process.cpuUsage(u0));
        const wallMs = performance.now() - w0;
        let count = await members.ask({ type: 'count' }, 'count');
        const deadline = Date.now() + RECEIVE_TIMEOUT_MS;
        while (count.light + count.real < size - 1 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          count = await members.ask({ type: 'count' }, 'count');
        }
        samples.push({
          envelopes: meter.envelopes.get(m.id) ?? 0,
          bytes: meter.bytes.get(m.id) ?? 0,
          answeredPerEnvelope: (meter.answeredBytes.get(m.id) ?? 0) / Math.max(1, meter.answeredEnvelopes.get(m.id) ?? 0),
          cpuSendMs: cpuSend,
          cpuFlushMs: cpuFlush,
          wallMs,
          received: count.light + count.real,
        });
      }
      const pick = (f: (s: (typeof samples)[number]) => number) => median(samples.map(f));
      results.push({
        size,
        createMs,
        createSealedBytes,
        createEnvelopes,
        createBlobBytes,
        envelopes: pick((s) => s.envelopes),
        bytes: pick((s) => s.bytes),
        answeredPerEnvelope: pick((s) => s.answeredPerEnvelope),
        cpuSendMs: pick((s) => s.cpuSendMs),
        cpuFlushMs: pick((s) => s.cpuFlushMs),
        wallMs: pick((s) => s.wallMs),
        received: Math.min(...samples.map((s) => s.received)),
        expected: size - 1,
      });
    }
    print(results, options, performance.now() - started);
    const file = writeResults('groups', { options, results });
    console.log(`results: ${file}`);
  } finally {
    await sender?.close().catch(() => undefined);
    await members.ask({ type: 'stop' }, 'stopped').catch(() => undefined);
    await relay.ask({ type: 'stop' }, 'stopped').catch(() => undefined);
    members.proc.kill();
    relay.proc.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitFor(done: () => boolean, what: string, timeoutMs = RECEIVE_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function print(results: readonly SizeResult[], options: GroupBenchOptions, totalMs: number): void {
  const kb = (n: number) => (n / 1024).toFixed(1);
  console.log('');
  console.log(`One group message from a real SDK sender (median of ${options.messages}; ${loadLine('during the run').line})`);
  console.log(
    table([
      ['members', 'received by', 'envelopes', 'sealed KiB', 'B/envelope', 'B/env answered', 'CPU send() ms', 'CPU until relay took all ms', 'wall ms', 'setup ms'],
      ...results.map((r) => [
        String(r.size),
        `${r.received}/${r.expected}`,
        String(r.envelopes),
        kb(r.bytes),
        r.envelopes > 0 ? String(Math.round(r.bytes / r.envelopes)) : 'n/a',
        String(Math.round(r.answeredPerEnvelope)),
        formatMs(r.cpuSendMs),
        formatMs(r.cpuFlushMs),
        formatMs(r.wallMs),
        formatMs(r.createMs),
      ]),
    ]),
  );
  console.log('B/envelope: light members never answer, so their copies still carry the session setup (PQXDH) header;');
  console.log('B/env answered: copies to the real members, whose sessions answered (what a group of people who talk sees).');
  console.log('');
  console.log(`Creating the group with groups.create (${options.inlineWelcome ? 'inline welcome: every card to every newcomer' : 'welcome by blob above the inline threshold'})`);
  console.log(
    table([
      ['members', 'envelopes', 'sealed KiB', 'welcome blob KiB', 'total KiB', 'wall ms'],
      ...results.map((r) => [
        String(r.size),
        String(r.createEnvelopes),
        kb(r.createSealedBytes),
        kb(r.createBlobBytes),
        kb(r.createSealedBytes + r.createBlobBytes),
        formatMs(r.createMs),
      ]),
    ]),
  );
  console.log(`total run time ${(totalMs / 1000).toFixed(1)} s`);
}
