import { createInterface } from 'node:readline';
import { ClientError } from '@pigeon/client';
import type { Command } from '../command.js';
import { stringOpt, timeoutMs } from '../command.js';
import { UsageError } from '../errors.js';
import { openClient } from '../profile.js';
import { terminalQr } from '../qr.js';

/** Default wait for the other device (the relay keeps the link mailbox 10 minutes). */
const LINK_WAIT_SECONDS = 600;

/** Reads one line from stdin (the user's answer); empty when stdin ends. */
function askLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line.trim());
    });
    rl.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

export const linkCommand: Command = {
  name: 'link',
  summary: 'make this computer another device of an existing account',
  help: `Usage: pigeon link --relay URL [--yes]

Run this on the NEW device. It prints a QR code and a pigeon://link/ code and waits.
On your existing device (the one you created the account on) run:
  pigeon devices add <code>
Both screens then show your Pigeon ID and a 6-digit confirmation code: continue only
if they are the same. This device gets its own keys; your account key stays on the
first device. Messages sent to you from then on arrive on both devices, and what you
send from one shows on the other.

Options:
  --relay URL      your account's relay (required)
  --yes            do not ask to compare the codes (scripts; compare them anyway)
  --timeout SECS   how long to wait for the other device (default ${LINK_WAIT_SECONDS})`,
  options: { relay: { type: 'string' }, yes: { type: 'boolean' }, timeout: { type: 'string' } },
  positionals: [0, 0],
  async run({ io, out, home, values, interrupted }) {
    const relayUrl = stringOpt(values, 'relay');
    if (!relayUrl) throw new UsageError('--relay URL is required', 'link');
    const wait = timeoutMs(values, LINK_WAIT_SECONDS);
    const client = await openClient(home);
    try {
      if (client.isInitialized()) throw new ClientError('ALREADY_INITIALIZED', `${home} already holds a Pigeon profile; link into a new --profile directory`);
      const session = await client.devices.startLink({ relayUrl, timeoutMs: wait });
      void interrupted.then(() => session.cancel());
      out.data({ event: 'link_code', linkCode: session.linkCode });
      out.line('On your existing device, run:');
      out.line(`  pigeon devices add ${session.linkCode}`);
      if (!out.json) {
        out.line();
        out.line(await terminalQr(session.linkCode));
      }
      out.line('Waiting for the other device...');
      const account = await session.account;
      out.data({ event: 'confirm', pigeonId: account.pigeonId, confirmationCode: account.confirmationCode });
      out.line(`Account:           ${account.pigeonId} (${account.displayName})`);
      out.line(`Confirmation code: ${account.confirmationCode}`);
      if (values.yes !== true) {
        out.note('Does the other device show the same Pigeon ID and code? [y/N]');
        const answer = await askLine(io.stdin);
        if (!/^y(es)?$/i.test(answer)) {
          session.cancel();
          throw new ClientError('LINK_FAILED', 'linking cancelled: the codes were not confirmed');
        }
      }
      const profile = await session.confirm();
      await client.connect({ timeoutMs: timeoutMs(values, 10) }).catch(() => undefined);
      // Tell our other devices (the first one then adds this one to your groups).
      await client.devices.announce();
      await client.flush(timeoutMs(values, 10)).catch(() => undefined);
      out.data({ event: 'linked', profile });
      out.line(`This device is linked (device ${profile.deviceId.slice(0, 12)}). Try: pigeon inbox`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
