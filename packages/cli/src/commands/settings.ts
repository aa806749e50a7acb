import type { ReceiptSettings } from '@pigeon/client';
import type { Command, CommandContext } from '../command.js';
import { stringOpt } from '../command.js';
import { UsageError } from '../errors.js';
import { openInitialized } from '../profile.js';

function onOff(values: CommandContext['values'], name: string): boolean | undefined {
  const raw = stringOpt(values, name);
  if (raw === undefined) return undefined;
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new UsageError(`--${name} takes "on" or "off"`, 'settings');
}

const word = (on: boolean) => (on ? 'on' : 'off');

export const settingsCommand: Command = {
  name: 'settings',
  summary: 'show or change delivery and read receipts',
  help: `Usage: pigeon settings [--read-receipts on|off] [--delivery-receipts on|off]

Without options, shows the settings of this profile. Both receipts are on by default.

Options:
  --delivery-receipts on|off  tell senders when their message reached this device
  --read-receipts on|off      tell senders when you read their message (pigeon chat and
                              pigeon inbox mark messages read). Like Signal, this works both
                              ways: with yours off, other people's read receipts are shown
                              as "delivered" only.`,
  options: { 'read-receipts': { type: 'string' }, 'delivery-receipts': { type: 'string' } },
  positionals: [0, 0],
  async run({ out, home, values }) {
    const patch: { -readonly [K in keyof ReceiptSettings]?: boolean } = {};
    const read = onOff(values, 'read-receipts');
    const delivery = onOff(values, 'delivery-receipts');
    if (read !== undefined) patch.readReceipts = read;
    if (delivery !== undefined) patch.deliveryReceipts = delivery;
    const client = await openInitialized(home);
    try {
      const settings = Object.keys(patch).length > 0 ? client.setReceiptSettings(patch) : client.receiptSettings();
      out.data(settings);
      out.line(`Delivery receipts: ${word(settings.deliveryReceipts)}`);
      out.line(`Read receipts:     ${word(settings.readReceipts)}`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
