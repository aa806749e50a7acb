import type { Command } from '../command.js';
import { openInitialized } from '../profile.js';

export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'show your name, Pigeon ID and relay',
  help: `Usage: pigeon whoami

Shows your display name, Pigeon ID, relay and profile directory. Never shows keys.`,
  options: {},
  positionals: [0, 0],
  async run({ out, home }) {
    const client = await openInitialized(home);
    try {
      const p = client.profile();
      out.data({ ...p, profileDir: home });
      out.line(`Name:      ${p.displayName}`);
      out.line(`Pigeon ID: ${p.pigeonId}`);
      out.line(`Relay:     ${p.relayUrl}`);
      out.line(`Device:    ${p.deviceId}`);
      out.line(`Profile:   ${home}`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
