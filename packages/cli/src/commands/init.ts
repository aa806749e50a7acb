import type { Command } from '../command.js';
import { stringOpt, timeoutMs } from '../command.js';
import { UsageError } from '../errors.js';
import { openClient } from '../profile.js';

/**
 * Deliberately not the login name: people behind a censor should not leak their account name
 * to everyone they invite without noticing.
 */
export const DEFAULT_DISPLAY_NAME = 'Pigeon user';

export const initCommand: Command = {
  name: 'init',
  summary: 'create your identity and register with a relay',
  help: `Usage: pigeon init --relay URL [--name NAME]

Creates your keys (no phone number, no email), registers this device with the relay
and uploads the keys others need to start a conversation with you.

Options:
  --relay URL      the relay to use, e.g. ws://127.0.0.1:7878/pigeon (required)
  --name NAME      the name your contacts see first (default: "Pigeon user")
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { relay: { type: 'string' }, name: { type: 'string' }, timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const relayUrl = stringOpt(values, 'relay');
    if (!relayUrl) throw new UsageError('--relay URL is required', 'init');
    const displayName = stringOpt(values, 'name') ?? DEFAULT_DISPLAY_NAME;
    const wait = timeoutMs(values);
    const client = await openClient(home, wait);
    try {
      const profile = await client.init({ relayUrl, displayName });
      out.data(profile);
      out.line('Your Pigeon profile is ready.');
      out.line(`  Name:      ${profile.displayName}`);
      out.line(`  Pigeon ID: ${profile.pigeonId}`);
      out.line(`  Relay:     ${profile.relayUrl}`);
      out.line(`  Profile:   ${home}`);
      out.line('Next: run `pigeon invite` and give the link to someone you trust.');
      return 0;
    } finally {
      await client.close();
    }
  },
};
