/**
 * The world a censored user lives in, on loopback:
 * - a relay (createRelay in this process, SQLite in a temp dir) behind a TLS front that serves it
 *   as wss://relay.example:PORT/pigeon, the way an operator puts nginx/Caddy in front of it
 *   (a certificate for relay.example, trusted by the clients through the direct route's `ca`);
 * - a `pigeon bridge` in its own process (bridge-child.ts), outside the censor, with an innocuous
 *   SNI (static.example) and its own pinned certificate, forwarding to the relay's public address.
 * Loopback addresses are told apart by port: `relayTarget` / `bridgeTarget` are what censor rules
 * name ('127.0.0.1:PORT').
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import { createRelay } from '@pigeon/relay';
import { testCertificate } from '@pigeon/lab';
import { LiveProcess, tempDir } from '../support/processes.js';

export const RELAY_NAME = 'relay.example';
export const BRIDGE_SNI = 'static.example';
export const LOOPBACK = '127.0.0.1';
/** Names the censor's upstream resolver knows (the real DNS of the scenario). */
export const NAME_TABLE: Readonly<Record<string, string>> = { [RELAY_NAME]: LOOPBACK, [BRIDGE_SNI]: LOOPBACK };

export const BRIDGE_CHILD = new URL('./bridge-child.js', import.meta.url).pathname;

export interface World {
  /** What the invite link says: the relay's public wss:// URL. */
  readonly relayUrl: string;
  /** The relay's own plain HTTP/WebSocket port (behind the TLS front). */
  readonly relayPlainPort: number;
  /** The relay's public (TLS) port. */
  readonly relayPort: number;
  readonly relayTarget: string;
  readonly relayPlainTarget: string;
  /** PEM the direct route trusts for relay.example. */
  readonly relayCa: string;
  readonly bridgeLink: string;
  readonly bridgePort: number;
  readonly bridgeTarget: string;
  readonly bridge: LiveProcess;
  stop(): Promise<void>;
}

/** Starts relay, TLS front and bridge; `stop()` ends them and removes the temp dirs. */
export async function startWorld(): Promise<World> {
  const dir = tempDir('world');
  const relay = createRelay({
    port: 0,
    dataDir: join(dir.path, 'relay'),
    durability: 'normal',
    // Every client and the bridge come from loopback: per-address limits would measure themselves.
    limits: { maxConnectionsPerAddress: 10_000, addressFramesPerSecond: 100_000, addressFrameBurst: 1_000_000 },
  });
  const address = await relay.start();
  const relayCert = testCertificate([RELAY_NAME]);
  const bridgeCert = testCertificate([BRIDGE_SNI]);

  const sockets = new Set<Socket | TLSSocket>();
  const front: TlsServer = createTlsServer({ cert: relayCert.cert, key: relayCert.key, ALPNProtocols: ['http/1.1'] }, (s) => {
    const up = netConnect(address.port, LOOPBACK);
    sockets.add(s);
    sockets.add(up);
    s.pipe(up).pipe(s);
    up.on('error', () => s.destroy());
    s.on('error', () => up.destroy());
    s.on('close', () => {
      sockets.delete(s);
      up.destroy();
    });
    up.on('close', () => {
      sockets.delete(up);
      s.destroy();
    });
  });
  front.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => front.listen(0, LOOPBACK, resolve));
  const relayPort = (front.address() as { port: number }).port;
  const relayUrl = `wss://${RELAY_NAME}:${relayPort}/pigeon`;

  const relayCaFile = join(dir.path, 'relay-ca.pem');
  const bridgeCertFile = join(dir.path, 'bridge-cert.pem');
  const bridgeKeyFile = join(dir.path, 'bridge-key.pem');
  writeFileSync(relayCaFile, relayCert.cert);
  writeFileSync(bridgeCertFile, bridgeCert.cert);
  writeFileSync(bridgeKeyFile, bridgeCert.key, { mode: 0o600 });
  const bridge = new LiveProcess(
    'bridge',
    BRIDGE_CHILD,
    ['--relay', relayUrl, '--cert', bridgeCertFile, '--key', bridgeKeyFile, '--map', `${RELAY_NAME}=${LOOPBACK}`, '--sni', BRIDGE_SNI],
    { NODE_EXTRA_CA_CERTS: relayCaFile },
  );
  const started = await Promise.race([
    bridge.waitForEvent('the bridge link', (e) => e.event === 'bridge'),
    bridge.exited.then((x) => {
      throw new Error(`the bridge exited (${x.code ?? x.signal}) before listening\n${bridge.describe()}`);
    }),
  ]);
  const bridgePort = Number(started.port);

  return {
    relayUrl,
    relayPlainPort: address.port,
    relayPort,
    relayTarget: `${LOOPBACK}:${relayPort}`,
    relayPlainTarget: `${LOOPBACK}:${address.port}`,
    relayCa: relayCert.cert,
    bridgeLink: String(started.link),
    bridgePort,
    bridgeTarget: `${LOOPBACK}:${bridgePort}`,
    bridge,
    async stop() {
      bridge.child.stdin?.end();
      const exit = await Promise.race([bridge.exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000).unref())]);
      if (exit === undefined) await bridge.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
      await relay.stop();
      dir.remove();
    },
  };
}
