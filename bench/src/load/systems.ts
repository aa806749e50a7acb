/**
 * The four systems under test, each started fresh and stopped after its turn:
 *   (a) one Pigeon relay node on SQLite, (b) Pigeon relay nodes on PostgreSQL + Redis,
 *   (c) ejabberd 23.01, (d) the bare ws forwarder.
 * Every system exposes the pids whose RSS and CPU are measured, and the targets drivers connect to.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServerTarget } from './ipc.js';
import { spawnServer, type ServerProcess } from './spawn-server.js';
import { pidsByName } from './proc-stats.js';
import { EJABBERD_PORT, startEjabberd } from './ejabberd.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
/** PIGEON_BENCH_RELAY_BIN runs another build of the relay (an A/B comparison in the same conditions). */
const RELAY_BIN = process.env['PIGEON_BENCH_RELAY_BIN'] ?? join(REPO, 'packages/relay/dist/src/bin.js');
const FORWARDER_BIN = fileURLToPath(new URL('./bare-forwarder.js', import.meta.url));
export const POSTGRES_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432';
export const REDIS_URL = 'redis://127.0.0.1:6379';

/**
 * Abuse limits raised: all load comes from 127.0.0.x, and the per-address defaults (64
 * connections, 2,000 frames/s) would measure the rate limiter. Capacity limits (mailbox,
 * delivery window, buffered bytes) keep their defaults.
 */
const RELAY_LIMIT_FLAGS = [
  '--max-connections-per-address', '100000',
  '--limit', 'connectionFramesPerSecond=1000000',
  '--limit', 'connectionFrameBurst=1000000',
  '--limit', 'addressFramesPerSecond=10000000',
  '--limit', 'addressFrameBurst=10000000',
];

/**
 * Extra Node.js flags for the relay processes, e.g. PIGEON_BENCH_RELAY_NODE_FLAGS="--cpu-prof
 * --cpu-prof-dir=/tmp/prof" to profile a node under load (CPU profiles are written at SIGTERM).
 */
const RELAY_NODE_FLAGS = (process.env['PIGEON_BENCH_RELAY_NODE_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');
/**
 * Extra relay command-line flags for the single SQLite node (system a), e.g.
 * PIGEON_BENCH_RELAY_FLAGS=--store-thread to measure the store on a worker thread.
 */
const SQLITE_RELAY_FLAGS = (process.env['PIGEON_BENCH_RELAY_FLAGS'] ?? '').split(/\s+/).filter((f) => f !== '');

export interface RunningSystem {
  readonly label: string;
  readonly servers: readonly ServerTarget[];
  /** Processes whose RSS/CPU is the system's (relay nodes, the Erlang VM, the forwarder). */
  pids(): number[];
  /** Extra per-system description for the report. */
  readonly notes: string[];
  /** Shared engines the system leans on (PostgreSQL backends, Redis): CPU shown apart. */
  auxPids?(): number[];
  /** Admin (metrics) base URLs of Pigeon nodes. */
  adminUrls?(): string[];
  /** Cluster only: stop the nodes beyond the first `count` (they served only the idle ceiling). */
  shrinkTo?(count: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startPigeonSqlite(): Promise<RunningSystem> {
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-bench-sqlite-'));
  const node = await spawnServer([...RELAY_NODE_FLAGS, RELAY_BIN, '--port', '0', '--data', dir, '--quiet', '--admin-port', '0', ...RELAY_LIMIT_FLAGS, ...SQLITE_RELAY_FLAGS], 'relay (sqlite)');
  return {
    label: 'a',
    servers: [{ kind: 'pigeon', url: node.url }],
    pids: () => [node.pid],
    adminUrls: () => (node.adminUrl ? [node.adminUrl] : []),
    notes: [`1 node, SQLite (durability full)${SQLITE_RELAY_FLAGS.length > 0 ? ` with ${SQLITE_RELAY_FLAGS.join(' ')}` : ''} in ${dir}`],
    stop: async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function psql(sql: string): void {
  execFileSync('psql', [POSTGRES_ADMIN_URL + '/postgres', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function redisCleanup(prefix: string): void {
  try {
    const keys = execFileSync('redis-cli', ['-u', REDIS_URL, '--scan', '--pattern', `${prefix}*`], { encoding: 'utf8' }).split('\n').filter((k) => k !== '');
    for (let i = 0; i < keys.length; i += 500) execFileSync('redis-cli', ['-u', REDIS_URL, 'DEL', ...keys.slice(i, i + 500)], { stdio: 'ignore' });
  } catch {
    // best effort
  }
}

/** Redis server pid (its memory grows with the per-device subscriptions of the bus). */
export function redisPid(): number | undefined {
  try {
    const info = execFileSync('redis-cli', ['-u', REDIS_URL, 'INFO', 'server'], { encoding: 'utf8' });
    const m = /process_id:(\d+)/.exec(info);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function startPigeonCluster(nodes: number): Promise<RunningSystem> {
  const stamp = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const db = `pigeon_bench_${stamp}`;
  const prefix = `pigeonbench-${stamp}:`;
  psql(`CREATE DATABASE ${db}`);
  const store = `${POSTGRES_ADMIN_URL}/${db}`;
  const running: ServerProcess[] = [];
  const servers: ServerTarget[] = [];
  const start = async (index: number): Promise<void> => {
    const node = await spawnServer(
      [...RELAY_NODE_FLAGS, RELAY_BIN, '--port', '0', '--store', store, '--bus', REDIS_URL, '--bus-prefix', prefix, '--node-id', `bench${index}`, '--quiet', '--admin-port', '0', ...RELAY_LIMIT_FLAGS],
      `relay node ${index}`,
    );
    running.push(node);
    servers.push({ kind: 'pigeon', url: node.url });
  };
  const system: RunningSystem = {
    label: 'b',
    servers,
    pids: () => running.map((n) => n.pid),
    adminUrls: () => running.map((n) => n.adminUrl).filter((u): u is string => u !== undefined),
    auxPids: () => [...pidsByName('postgres'), ...(redisPid() !== undefined ? [redisPid()!] : [])],
    notes: [],
    shrinkTo: async (count: number) => {
      if (running.length <= count) return;
      const gone = running.splice(count);
      servers.splice(count);
      await Promise.all(gone.map((n) => n.stop()));
      system.notes.push(`message workloads on ${count} of the nodes (the others were stopped after the idle phase)`);
    },
    stop: async () => {
      await Promise.all(running.map((n) => n.stop()));
      try {
        psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      } catch {
        // reported by the next run's leftovers, never fatal
      }
      redisCleanup(prefix);
    },
  };
  try {
    await start(0); // the first node runs the migrations
    await Promise.all(Array.from({ length: nodes - 1 }, (_, i) => start(i + 1)));
  } catch (error) {
    await system.stop();
    throw error;
  }
  system.notes.push(`${nodes} nodes, PostgreSQL 15 database ${db}, Redis 7 bus (prefix ${prefix})`);
  return system;
}

export async function startEjabberdSystem(log: (line: string) => void): Promise<RunningSystem> {
  const ej = await startEjabberd(log);
  return {
    label: 'c',
    servers: [{ kind: 'xmpp', host: '127.0.0.1', port: EJABBERD_PORT }],
    pids: () => [ej.pid],
    notes: [`ejabberd ${ej.version} (mnesia, mod_offline, mod_stream_mgmt, PLAIN without TLS, no shapers)`],
    stop: () => ej.stop(),
  };
}

export async function startBareForwarder(): Promise<RunningSystem> {
  const node = await spawnServer([FORWARDER_BIN], 'bare forwarder');
  return {
    label: 'd',
    servers: [{ kind: 'bare', url: node.url }],
    pids: () => [node.pid],
    notes: ['1 process, ws 8, no storage, no checks'],
    stop: () => node.stop(),
  };
}
