import { toBase64Url } from '@pigeon/crypto';
import type { Command } from '../command.js';
import { UsageError } from '../errors.js';
import { keyChangeWarning, safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { terminalQr } from '../qr.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'show the safety number with a contact; mark them verified',
  help: `Usage: pigeon verify <contact> [--mark-verified | --unverify] [--acknowledge] [--no-qr]

Shows the 60-digit safety number you share with a contact. Compare it with theirs
in person or over a channel you trust; if it matches, nobody is in the middle.

Options:
  --mark-verified  record that you compared the numbers and they match
  --unverify       remove that mark
  --acknowledge    accept a key change (a new device on the contact's account) so
                   that sending is allowed again (--mark-verified also does this)
  --no-qr          do not draw the QR code`,
  options: { 'mark-verified': { type: 'boolean' }, unverify: { type: 'boolean' }, acknowledge: { type: 'boolean' }, 'no-qr': { type: 'boolean' } },
  positionals: [1, 1],
  async run({ out, home, values, positionals }) {
    if (values['mark-verified'] && values.unverify) throw new UsageError('use either --mark-verified or --unverify', 'verify');
    const client = await openInitialized(home);
    try {
      const contact = client.findContact(positionals[0]!);
      if (values['mark-verified']) client.setVerified(contact.id, true);
      if (values.unverify) client.setVerified(contact.id, false);
      const keyChangedBefore = contact.keyChanged;
      if (values.acknowledge) client.acknowledgeKeyChange(contact.id);
      const now = client.findContact(contact.id);
      const verified = now.verified;
      const keyChanges = client.safetyEvents(contact.id);
      const sn = await client.safetyNumber(contact.id);
      out.data({ contact: now, safetyNumber: sn.digits, display: sn.display, qrPayload: toBase64Url(sn.qrPayload), verified, keyChanged: now.keyChanged, keyChanges });
      if (now.keyChanged) out.line(`WARNING: ${keyChangeWarning(now)}`);
      else if (keyChangedBefore) out.line(`Key change of ${safeText(contact.name)} acknowledged: sending is allowed again.`);
      out.line(`Safety number with ${safeText(contact.name)} (${contact.pigeonId}):`);
      out.line();
      const groups = sn.display.split(' ');
      for (let i = 0; i < groups.length; i += 4) out.line('  ' + groups.slice(i, i + 4).join(' '));
      if (!values['no-qr'] && !out.json) {
        out.line();
        out.line(await terminalQr(sn.qrPayload));
      }
      out.line(verified ? 'Status: verified' : `Status: not verified (after comparing: pigeon verify ${JSON.stringify(contact.name)} --mark-verified)`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
