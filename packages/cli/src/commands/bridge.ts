/**
 * `pigeon bridge`: run a bridge (anyone, any machine), or manage the bridges this profile uses.
 *   pigeon bridge --relay URL [...]     run a bridge and print its link + QR code
 *   pigeon bridge add <link> [--proxy URL]   use a bridge (its WebSocket and tunnel routes)
 *   pigeon bridge list | remove <text>
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultBackend } from '@pigeon/crypto';
import { ensureCertificate, loadCertificate, loadOrCreateState, startBridge } from '@pigeon/bridge';
import { decodeBridgeLink, parseProxyUrl, routeLabel, routesFromBridgeLink } from '@pigeon/transport';
import type { Command } from '../command.js';
import { stringOpt } from '../command.js';
import { UsageError } from '../errors.js';
import { openClient } from '../profile.js';
import { terminalQr } from '../qr.js';
import { routeBookOf } from '../route-setup.js';

const DEFAULT_BRIDGE_PORT = 8443;

export const bridgeCommand: Command = {
  name: 'bridge',
  summary: 'run a bridge to a relay, or add/list/remove bridges you use',
  help: `Usage: pigeon bridge --relay URL [--port N] [--host ADDR] [--public-host NAME] [--data DIR]
                     [--tls-cert FILE --tls-key FILE] [--sni NAME] [--front NAME] [--no-qr]
       pigeon bridge add <link> [--proxy URL]
       pigeon bridge list
       pigeon bridge remove <text>

Running a bridge: forwards to the relay at URL (ws:// or wss://). To everyone without its link it
is an ordinary website, even to replayed or altered handshakes. Prints a pigeon://bridge/ link and
its QR code; give them only to people you trust with it. The secret, path and (self-signed, made
with openssl on first run) certificate are kept in --data (default $PIGEON_BRIDGE_DATA or
~/.pigeon-bridge), so the link stays the same across restarts.

  --relay URL        the relay to forward to (required)
  --port N           port to listen on (default ${DEFAULT_BRIDGE_PORT}; 0 picks a free one)
  --host ADDR        address to listen on (default 0.0.0.0)
  --public-host NAME the address people reach the bridge at (default: --host)
  --tls-cert FILE, --tls-key FILE   use this certificate instead of a self-signed one
  --sni NAME         innocuous name clients put in TLS SNI (default: none)
  --front NAME       clients connect to NAME (a CDN) and ask for this bridge by Host

Using a bridge: \`add\` stores its routes in this profile; from then on pigeon races them
with the direct route and keeps the first that reaches the relay.
  --proxy URL        reach the bridge through socks5h://, socks5:// or http:// (e.g. Tor:
                     socks5h://127.0.0.1:9050)`,
  options: {
    relay: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'public-host': { type: 'string' },
    data: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    sni: { type: 'string' },
    front: { type: 'string' },
    proxy: { type: 'string' },
    'no-qr': { type: 'boolean' },
  },
  positionals: [0, 2],
  async run(ctx) {
    const [sub, arg] = ctx.positionals;
    if (sub === undefined || sub === 'run') return runBridge(ctx);
    if (sub === 'add' || sub === 'list' || sub === 'remove') {
      // Works before `pigeon init` too, so a first registration can already use the bridge.
      const client = await openClient(ctx.home);
      try {
        const book = routeBookOf(client);
        if (sub === 'list') {
          const routes = book.routes();
          ctx.out.data({ routes: routes.map(routeLabel) });
          if (routes.length === 0) ctx.out.line('No bridges or other routes; pigeon connects directly to the relay.');
          for (const r of routes) ctx.out.line(routeLabel(r));
          return 0;
        }
        if (arg === undefined) throw new UsageError(`pigeon bridge ${sub} needs an argument`);
        if (sub === 'add') {
          const proxyUrl = stringOpt(ctx.values, 'proxy');
          const info = decodeBridgeLink(arg);
          const added = book.add(routesFromBridgeLink(arg, proxyUrl !== undefined ? parseProxyUrl(proxyUrl) : undefined));
          ctx.out.data({ added: added.map(routeLabel), relayUrl: info.relayUrl });
          ctx.out.line(added.length > 0 ? `Added ${added.length} route(s) to ${info.relayUrl}:` : 'That bridge was already known.');
          for (const r of added) ctx.out.line(`  ${routeLabel(r)}`);
          if (client.isInitialized() && info.relayUrl !== client.profile().relayUrl) ctx.out.note('pigeon: note: this bridge leads to another relay than your own; it is used for contacts on that relay.');
          return 0;
        }
        const removed = book.remove(arg);
        ctx.out.data({ removed });
        ctx.out.line(`Removed ${removed} route(s).`);
        return 0;
      } finally {
        await client.close();
      }
    }
    throw new UsageError(`unknown bridge subcommand: ${sub}`);
  },
};

async function runBridge({ out, io, values, interrupted }: Parameters<Command['run']>[0]): Promise<number> {
  const relayUrl = stringOpt(values, 'relay');
  if (relayUrl === undefined) throw new UsageError('pigeon bridge needs --relay URL');
  const portText = stringOpt(values, 'port');
  const port = portText === undefined ? DEFAULT_BRIDGE_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0..65535');
  const dataDir = resolve(stringOpt(values, 'data') ?? io.env.PIGEON_BRIDGE_DATA ?? join(homedir(), '.pigeon-bridge'));
  const crypto = defaultBackend();
  const state = loadOrCreateState(dataDir, crypto);
  const certFile = stringOpt(values, 'tls-cert');
  const keyFile = stringOpt(values, 'tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const sni = stringOpt(values, 'sni');
  const certificate = certFile !== undefined && keyFile !== undefined ? loadCertificate(certFile, keyFile) : ensureCertificate(dataDir, sni ?? 'localhost');
  const host = stringOpt(values, 'host') ?? '0.0.0.0';
  const publicHost = stringOpt(values, 'public-host');
  const front = stringOpt(values, 'front');
  const bridge = await startBridge({
    relayUrl,
    certificate,
    secret: state.secret,
    path: state.path,
    host,
    port,
    ...(publicHost !== undefined ? { publicHost } : host === '0.0.0.0' ? { publicHost: '127.0.0.1' } : {}),
    ...(sni !== undefined ? { sni } : {}),
    ...(front !== undefined ? { front } : {}),
  });
  out.data({ event: 'listening', port: bridge.port, link: bridge.link });
  out.line(`Bridge to ${relayUrl} listening on ${bridge.host}:${bridge.port}.`);
  if (publicHost === undefined) out.note('pigeon: the link says 127.0.0.1; pass --public-host with the address people use to reach this machine');
  out.line('Give this link only to people you trust with it:');
  out.line();
  out.line(`  ${bridge.link}`);
  if (!values['no-qr'] && !out.json) {
    out.line();
    out.line(await terminalQr(bridge.link));
  }
  out.line('They run: pigeon bridge add <link>');
  await interrupted;
  await bridge.stop();
  return 0;
}
