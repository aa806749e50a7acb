import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { jsonLineLogger, silentLogger, startRelayFromArgs } from '@pigeon/relay';
import type { Command } from '../command.js';
import { stringOpt } from '../command.js';

export const DEFAULT_RELAY_PORT = 7878;
/** The web app built in this checkout (packages/web/dist), served by default when present. */
const BUILT_WEB_APP = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

/** Relay flags passed through to @pigeon/relay's parser. */
const PASS_THROUGH = [
  'host',
  'ws-path',
  'app-path',
  'message-ttl-ms',
  'durability',
  'max-connections-per-address',
  'mailbox-max-messages',
  'mailbox-max-bytes',
  'store',
  'bus',
  'bus-prefix',
  'node-id',
  'admin-port',
  'admin-host',
];

export const relayCommand: Command = {
  name: 'relay',
  summary: 'run a relay (the server people connect through)',
  help: `Usage: pigeon relay [--port ${DEFAULT_RELAY_PORT}] [--host 127.0.0.1] [--data DIR] [--ws-path /pigeon]

Runs a Pigeon relay and prints the URL to give to \`pigeon init --relay\`. The relay
stores only sealed envelopes and public keys; it never learns who writes to whom.
Anything but the WebSocket path looks like an ordinary website. Stop with Ctrl-C.

Options:
  --port N         TCP port (0 = any free port; default ${DEFAULT_RELAY_PORT})
  --host ADDR      interface to listen on (default 127.0.0.1; 0.0.0.0 for all)
  --data DIR       database directory (default: $PIGEON_RELAY_DATA or ~/.pigeon-relay)
  --ws-path PATH   WebSocket path (default /pigeon)
  --app-path PATH  URL path of the web app (default /app/; use a secret path to hide it)
  --app-dir DIR    built web app to serve (default: packages/web/dist when built)
  --store URL      postgres://user@host/db (comma-separated: shards) for a cluster of nodes
                   (default: SQLite in --data)
  --bus URL        redis://host:6379 connecting the nodes of a cluster (default: in-process)
  --bus-prefix P, --node-id ID   Redis channel prefix, this node's name
  --admin-port N   serve /metrics and /healthz on 127.0.0.1:N (--admin-host to change)
  --message-ttl-ms N, --durability full|normal, --max-connections-per-address N,
  --mailbox-max-messages N, --mailbox-max-bytes N   limits (see docs/relay-api.md)
  --quiet          no log lines on stderr
With --json, prints {"event":"listening","url":...,"port":...} once it accepts connections.`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    data: { type: 'string' },
    'ws-path': { type: 'string' },
    'app-path': { type: 'string' },
    'app-dir': { type: 'string' },
    'message-ttl-ms': { type: 'string' },
    durability: { type: 'string' },
    'max-connections-per-address': { type: 'string' },
    'mailbox-max-messages': { type: 'string' },
    'mailbox-max-bytes': { type: 'string' },
    store: { type: 'string' },
    bus: { type: 'string' },
    'bus-prefix': { type: 'string' },
    'node-id': { type: 'string' },
    'admin-port': { type: 'string' },
    'admin-host': { type: 'string' },
    quiet: { type: 'boolean' },
  },
  positionals: [0, 0],
  async run({ io, out, values, interrupted }) {
    const data = resolve(stringOpt(values, 'data') ?? io.env.PIGEON_RELAY_DATA ?? join(homedir(), '.pigeon-relay'));
    const args = ['--port', stringOpt(values, 'port') ?? String(DEFAULT_RELAY_PORT), '--data', data];
    for (const name of PASS_THROUGH) {
      const v = stringOpt(values, name);
      if (v !== undefined) args.push(`--${name}`, v);
    }
    const appDir = stringOpt(values, 'app-dir') ?? (existsSync(join(BUILT_WEB_APP, 'index.html')) ? BUILT_WEB_APP : undefined);
    if (appDir !== undefined) args.push('--app-dir', resolve(appDir));
    const logger = values.quiet ? silentLogger : jsonLineLogger((line) => io.stderr(line));
    const { relay, address } = await startRelayFromArgs(args, { logger });
    try {
      out.data({ event: 'listening', url: address.url, httpUrl: address.httpUrl, appUrl: address.appUrl, adminUrl: address.adminUrl, host: address.host, port: address.port, dataDir: data });
      out.line(`Pigeon relay listening on ${address.url}`);
      out.line(`Data: ${data}`);
      out.line(`People join with: pigeon init --relay ${address.url}`);
      if (address.appUrl) out.line(`Web app: ${address.appUrl}`);
      if (address.adminUrl) out.line(`Metrics and health: ${address.adminUrl}metrics ${address.adminUrl}healthz`);
      await interrupted;
      return 0;
    } finally {
      await relay.stop();
    }
  },
};
