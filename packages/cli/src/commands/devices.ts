import type { Command } from '../command.js';
import { timeoutMs } from '../command.js';
import { UsageError } from '../errors.js';
import { time } from '../format.js';
import { openInitialized } from '../profile.js';

const SUBCOMMANDS = ['list', 'add', 'remove'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'list, link (add) and remove the devices of your account',
  help: `Usage: pigeon devices list
       pigeon devices add <pigeon://link/...>
       pigeon devices remove <device-id>

  list     the devices of your account (from its signed device list)
  add      link the new device that shows this code (run \`pigeon link\` there first);
           prints your Pigeon ID and a 6-digit code that must match the new device's screen
  remove   revoke a device everywhere: the relay deletes it, your contacts and groups stop
           sending to it (a device id, or its first 6+ hex digits, from \`devices list\`)

Only the device holding your account key (the one you created the account on) can add
or remove devices. An account has at most 10 devices.

Options:
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { timeout: { type: 'string' } },
  positionals: [1, 2],
  async run({ out, home, values, positionals }) {
    const sub = positionals[0] as Sub;
    if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown devices command "${positionals[0]}"`, 'devices');
    if (sub === 'list' && positionals.length !== 1) throw new UsageError('devices list takes no argument', 'devices');
    if (sub !== 'list' && positionals.length !== 2) throw new UsageError(`devices ${sub}: missing argument`, 'devices');
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    try {
      if (sub === 'list') {
        const devices = await client.devices.list();
        out.data({ devices });
        for (const d of devices) {
          const notes = [d.current ? 'this device' : '', d.accountKeyHolder ? 'holds the account key' : ''].filter(Boolean).join(', ');
          out.line(`${d.id}  ${d.addedAt ? `added ${time(d.addedAt)}` : ''}${notes ? `  (${notes})` : ''}`);
        }
        return 0;
      }
      await client.connect({ timeoutMs: wait });
      if (sub === 'add') {
        const added = await client.devices.add(positionals[1]!);
        await client.flush(wait).catch(() => undefined);
        out.data({ device: added });
        out.line(`Pigeon ID:         ${added.pigeonId}`);
        out.line(`Confirmation code: ${added.confirmationCode}`);
        out.line('The new device must show the same Pigeon ID and code; if it does not, run: pigeon devices remove ' + added.deviceId.slice(0, 12));
        return 0;
      }
      const devices = await client.devices.remove(positionals[1]!);
      await client.flush(wait).catch(() => undefined);
      out.data({ devices });
      out.line(`Removed. ${devices.length} device${devices.length === 1 ? '' : 's'} left.`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
