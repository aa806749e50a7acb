/**
 * A TCP proxy that kills connections after a number of bytes, to test transfers that survive
 * dropped connections (a throttled link, a censor's connection policing).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export class CuttingProxy {
  /** Bytes (both directions) after which a connection is cut; null = never. */
  cutAfter: (() => number) | null = null;
  cuts = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number, targetHost = '127.0.0.1'): Promise<CuttingProxy> {
    let proxy: CuttingProxy | undefined;
    const server = createServer((client) => proxy!.accept(client, targetPort, targetHost));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    proxy = new CuttingProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  private accept(client: Socket, port: number, host: string): void {
    const upstream = connect(port, host);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const limit = this.cutAfter?.() ?? Infinity;
    let bytes = 0;
    let cut = false;
    const count = (n: number) => {
      bytes += n;
      if (!cut && bytes >= limit) {
        cut = true;
        this.cuts++;
        client.destroy();
        upstream.destroy();
      }
    };
    client.on('data', (d: Buffer) => {
      if (cut) return;
      if (!upstream.write(d)) client.pause();
      count(d.length);
    });
    upstream.on('data', (d: Buffer) => {
      if (cut) return;
      if (!client.write(d)) upstream.pause();
      count(d.length);
    });
    upstream.on('drain', () => client.resume());
    client.on('drain', () => upstream.resume());
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
