#!/usr/bin/env node
/**
 * Executable relay: `node packages/relay/dist/src/bin.js --port 0 --data DIR`, or a cluster node:
 * `... --store postgres://... --bus redis://... --admin-port 9100`.
 * Prints one JSON line {"event":"listening","url":...,"httpUrl":...} on stdout when ready,
 * logs JSON lines on stderr, and exits cleanly on SIGTERM/SIGINT.
 */
import { RelayServerError } from './errors.js';
import { jsonLineLogger, silentLogger } from './logger.js';
import { parseRelayArgs, RELAY_USAGE, startRelayFromArgs } from './args.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RELAY_USAGE + '\n');
    return;
  }
  const { quiet } = parseRelayArgs(argv);
  const logger = quiet ? silentLogger : jsonLineLogger((line) => process.stderr.write(line));
  const { relay, address } = await startRelayFromArgs(argv, { logger });
  process.stdout.write(
    JSON.stringify({ event: 'listening', url: address.url, httpUrl: address.httpUrl, ...(address.adminUrl ? { adminUrl: address.adminUrl } : {}), node: relay.stats().nodeId }) + '\n',
  );
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    relay.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((e: unknown) => {
  if (e instanceof RelayServerError && e.code === 'BAD_OPTION') {
    process.stderr.write(`${e.message}\n${RELAY_USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`relay failed to start: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
