import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { openInitialized } from '../profile.js';
import { describeConnection, routeBookOf } from '../route-setup.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show how pigeon reaches your relay right now (route, state, queue)',
  help: `Usage: pigeon status [--timeout SECS]

Connects (racing every known route if you have added bridges) and prints the route in use and the
state: "connected via <route>", "connecting", or "no route" with the number of queued messages.

Options:
  --timeout SECS   how long to try (default 10)`,
  options: { timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      const routes = routeBookOf(client).routes().length;
      try {
        await client.connect({ timeoutMs: wait });
      } catch {
        // reported below as the state
      }
      const now = describeConnection(client);
      const relayUrl = client.profile().relayUrl;
      out.data({ relayUrl, ...now, knownRoutes: routes, racing: routes > 0 });
      out.line(`Relay:  ${relayUrl}`);
      out.line(`Routes: ${routes === 0 ? 'direct only' : `direct + ${routes} more (pigeon bridge list)`}`);
      out.line(`State:  ${now.text}`);
      return now.state === 'connected' ? 0 : 1;
    } finally {
      await client.close();
    }
  },
};
