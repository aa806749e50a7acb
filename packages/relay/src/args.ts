/**
 * Command-line front end shared by `pigeon relay` (packages/cli) and src/bin.ts.
 */
import { parseArgs } from 'node:util';
import { RelayServerError } from './errors.js';
import { DEFAULT_LIMITS, type RelayLimits, type RelayOptions } from './options.js';
import { createRelay, type Relay, type RelayAddress } from './relay.js';

export const RELAY_USAGE = `usage: relay [options]
  --port N                      TCP port (0 = any free port; default 0)
  --host ADDR                   interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --data DIR                    directory of the SQLite database (default: in memory, lost on exit)
  --store URL                   postgres://user@host/db for a cluster; several, comma-separated, shard
                                mailboxes by recipient (default: SQLite in --data)
  --bus URL                     redis://host:6379 to connect the nodes of a cluster (default: in-process)
  --bus-prefix P                Redis channel prefix (default pigeon:)
  --node-id ID                  this node's name in connection claims (default: random)
  --bus-sweep-ms N              re-read an online mailbox after N ms, and every N ms while the bus is down (default 2000)
  --bus-sweep-max-ms N          back off to at most N ms between re-reads while the bus is up (default 60000)
  --admin-port N                serve /metrics and /healthz on this port (0 = any free port; default: off)
  --admin-host ADDR             interface of the admin port (default 127.0.0.1; keep it private)
  --ws-path PATH                WebSocket path, the rest is a plain website (default /pigeon)
  --app-dir DIR                 serve the built web app from DIR (packages/web/dist)
  --app-path PATH               URL path of the web app (default /app/; a secret path hides it)
  --message-ttl-ms N            delete undelivered messages after N ms (default 30 days)
  --durability full|normal      fsync every commit (full, default) or only survive process crashes
  --store-thread                run the SQLite store on a worker thread (default: on the main thread)
  --max-connections-per-address N
  --mailbox-max-messages N
  --mailbox-max-bytes N
  --limit NAME=VALUE            any RelayLimits field, repeatable (e.g. --limit addressFramesPerSecond=100000)
  --quiet                       no log lines on stderr`;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new RelayServerError('BAD_OPTION', `--${name} needs a non-negative integer`);
  return Number(value);
}

export interface ParsedRelayArgs {
  readonly options: RelayOptions;
  readonly quiet: boolean;
}

/** Parses flags into RelayOptions (throws RelayServerError BAD_OPTION). */
export function parseRelayArgs(argv: readonly string[]): ParsedRelayArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        data: { type: 'string' },
        store: { type: 'string' },
        bus: { type: 'string' },
        'bus-prefix': { type: 'string' },
        'node-id': { type: 'string' },
        'bus-sweep-ms': { type: 'string' },
        'bus-sweep-max-ms': { type: 'string' },
        'admin-port': { type: 'string' },
        'admin-host': { type: 'string' },
        'ws-path': { type: 'string' },
        'app-dir': { type: 'string' },
        'app-path': { type: 'string' },
        'message-ttl-ms': { type: 'string' },
        durability: { type: 'string' },
        'store-thread': { type: 'boolean' },
        'max-connections-per-address': { type: 'string' },
        'mailbox-max-messages': { type: 'string' },
        'mailbox-max-bytes': { type: 'string' },
        limit: { type: 'string', multiple: true },
        quiet: { type: 'boolean' },
      },
    }));
  } catch (cause) {
    throw new RelayServerError('BAD_OPTION', cause instanceof Error ? cause.message : 'bad arguments', { cause });
  }
  const limits: Partial<Record<keyof RelayLimits, number>> = {};
  const setLimit = (key: keyof RelayLimits, flag: string) => {
    const v = int(flag, values[flag as keyof typeof values] as string | undefined);
    if (v !== undefined) limits[key] = v;
  };
  setLimit('maxConnectionsPerAddress', 'max-connections-per-address');
  setLimit('mailboxMaxMessages', 'mailbox-max-messages');
  setLimit('mailboxMaxBytes', 'mailbox-max-bytes');
  for (const entry of values.limit ?? []) {
    const match = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(entry);
    if (match === null || !(match[1]! in DEFAULT_LIMITS)) throw new RelayServerError('BAD_OPTION', `--limit ${entry}: expected NAME=NUMBER with a RelayLimits name`);
    limits[match[1] as keyof RelayLimits] = Number(match[2]);
  }
  if (values['admin-host'] !== undefined && values['admin-port'] === undefined) {
    throw new RelayServerError('BAD_OPTION', '--admin-host needs --admin-port');
  }
  const durability = values.durability;
  if (durability !== undefined && durability !== 'full' && durability !== 'normal') {
    throw new RelayServerError('BAD_OPTION', '--durability must be full or normal');
  }
  const options: RelayOptions = {
    port: int('port', values.port) ?? 0,
    host: values.host ?? '127.0.0.1',
    ...(values.data !== undefined ? { dataDir: values.data } : {}),
    ...(values.store !== undefined ? { storeUrl: values.store } : {}),
    ...(values.bus !== undefined ? { busUrl: values.bus } : {}),
    ...(values['bus-prefix'] !== undefined ? { busPrefix: values['bus-prefix'] } : {}),
    ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
    ...(values['bus-sweep-ms'] !== undefined ? { busSweepMs: int('bus-sweep-ms', values['bus-sweep-ms']) } : {}),
    ...(values['bus-sweep-max-ms'] !== undefined ? { busSweepMaxMs: int('bus-sweep-max-ms', values['bus-sweep-max-ms']) } : {}),
    ...(values['admin-port'] !== undefined
      ? { admin: { port: int('admin-port', values['admin-port'])!, ...(values['admin-host'] !== undefined ? { host: values['admin-host'] } : {}) } }
      : {}),
    ...(values['ws-path'] !== undefined ? { wsPath: values['ws-path'] } : {}),
    ...(values['message-ttl-ms'] !== undefined ? { messageTtlMs: int('message-ttl-ms', values['message-ttl-ms']) } : {}),
    ...(durability !== undefined ? { durability } : {}),
    ...(values['store-thread'] === true ? { storeThread: true } : {}),
    ...(values['app-dir'] !== undefined ? { app: { dir: values['app-dir'], ...(values['app-path'] !== undefined ? { path: values['app-path'] } : {}) } } : {}),
    limits,
  };
  return { options, quiet: values.quiet === true };
}

export interface RunningRelay {
  readonly relay: Relay;
  readonly address: RelayAddress;
}

/** Parses flags, applies `overrides` (e.g. a logger), starts the relay. */
export async function startRelayFromArgs(argv: readonly string[], overrides: Partial<RelayOptions> = {}): Promise<RunningRelay> {
  const { options } = parseRelayArgs(argv);
  const relay = createRelay({ ...options, ...overrides, limits: { ...options.limits, ...overrides.limits } });
  const address = await relay.start();
  return { relay, address };
}
