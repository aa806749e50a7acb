/**
 * The admin listener: /metrics (Prometheus) and /healthz, on their own port, bound to loopback by
 * default. They are not on the public port on purpose: there every path must look like an
 * ordinary website (docs/relay-api.md "Transport"), and a /metrics page would name the software
 * to anyone probing it. Nothing here is secret, but it tells how busy the node is, so it stays on
 * a private interface.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from './metrics/registry.js';
import type { HealthReport } from './health.js';

export const DEFAULT_ADMIN_HOST = '127.0.0.1';

export interface AdminHandlers {
  metrics(): Promise<string>;
  health(): Promise<HealthReport>;
}

export interface AdminServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startAdminServer(host: string, port: number, handlers: AdminHandlers): Promise<AdminServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      handlers.metrics().then(
        (text) => reply(200, PROMETHEUS_CONTENT_TYPE, text),
        () => reply(500, 'text/plain', 'metrics failed\n'),
      );
      return;
    }
    if (path === '/healthz') {
      handlers.health().then(
        (h) => reply(h.ok ? 200 : 503, 'application/json', JSON.stringify({ status: h.ok ? 'ok' : 'degraded', store: h.store, bus: h.bus, busKind: h.busKind }) + '\n'),
        () => reply(503, 'application/json', '{"status":"degraded"}\n'),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
