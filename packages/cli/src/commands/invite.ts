import { timeoutMs, type Command } from '../command.js';
import { connectForInvite } from '../invite-connect.js';
import { openInitialized } from '../profile.js';
import { terminalQr } from '../qr.js';
import { bridgeLinksOf, withBridges } from '../route-setup.js';

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'print an invite link (and its QR code) for someone to add you',
  help: `Usage: pigeon invite [--no-qr] [--timeout SECONDS]

Prints a one-time invite link and a QR code. Whoever opens it with \`pigeon accept\`
becomes your contact. Give it only to the person you mean: it lets them write to you.

Options:
  --no-qr          do not draw the QR code
  --no-bridges     do not put the bridges you use into the link
  --timeout S      how long to try the relay, which registers the link's own token (default 10)`,
  options: { 'no-qr': { type: 'boolean' }, 'no-bridges': { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      await connectForInvite(client, wait, out);
      // Bridges we use go into the invite (up to MAX_INVITE_ROUTES), so the contact can reach
      // our relay through them too; --no-bridges leaves them out.
      const link = values['no-bridges'] ? (await client.createInvite()).link : withBridges((await client.createInvite()).link, bridgeLinksOf(client));
      out.data({ link });
      out.line('Send this invite link to the person you want to talk to:');
      out.line();
      out.line(`  ${link}`);
      if (!values['no-qr'] && !out.json) {
        out.line();
        out.line(await terminalQr(link));
      }
      out.line('They run: pigeon accept <link>');
      return 0;
    } finally {
      await client.close();
    }
  },
};
