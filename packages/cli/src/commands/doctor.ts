import { defaultBackend } from '@pigeon/crypto';
import { diagnoseRoutes, formatDiagnosisTable, realNet } from '@pigeon/transport';
import type { Route } from '@pigeon/transport';
import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { openInitialized } from '../profile.js';
import { routeBookOf } from '../route-setup.js';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'probe every known route to your relay, step by step, and say what works from here',
  help: `Usage: pigeon doctor [--timeout SECS] [--json]

Tries each route once, one after another: DNS, TCP, proxy, TLS, the WebSocket upgrade or tunnel
session, and the relay's challenge (proof that the relay itself answered through the route).
Prints a table of what works from here and, for the rest, the step that failed and why
(DNS_FAILED: name blocked or poisoned; CONNECT_FAILED (ETIMEDOUT/ECONNREFUSED): address blocked;
TLS_FAILED: SNI filter or allowlist; PIN_MISMATCH: someone else's certificate; UPGRADE_FAILED: a
website answered, e.g. a wrong bridge secret).

Options:
  --timeout SECS   per route (default 15)`,
  options: { timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const perRoute = timeoutMs(values, 15);
    const client = await openInitialized(home);
    let relayUrl: string;
    let routes: Route[];
    try {
      relayUrl = client.profile().relayUrl;
      routes = routeBookOf(client).routes();
    } finally {
      await client.close();
    }
    const all: Route[] = [{ kind: 'direct', url: relayUrl }, ...routes];
    const rows = await diagnoseRoutes(all, { net: realNet, crypto: defaultBackend(), stepTimeoutMs: perRoute }, perRoute);
    for (const r of rows) out.data({ ...r });
    out.line(`Routes to ${relayUrl}:`);
    out.line(formatDiagnosisTable(rows));
    const working = rows.filter((r) => r.ok).length;
    out.line();
    out.line(working > 0 ? `${working} of ${rows.length} route(s) work from here.` : 'No route works from here. Add a bridge: pigeon bridge add <link>');
    return working > 0 ? 0 : 1;
  },
};
