import { ClientError, isClientError } from '@pigeon/client';
import type { Command } from '../command.js';
import { stringOpt, timeoutMs } from '../command.js';
import { safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { progressReporter } from '../progress.js';

export const sendFileCommand: Command = {
  name: 'send-file',
  summary: 'send a file (encrypted, up to 2 GB) and wait until the relay has it',
  help: `Usage: pigeon send-file <contact> <path>

Encrypts the file with a fresh key, uploads it to your relay's blob store (a dropped
connection resumes where it stopped), then sends the contact a message carrying the
key and the blob's address. The relay only ever sees padded ciphertext. A progress
bar is shown on stderr in a terminal; with --json, progress lines go to stdout.

Options:
  --caption TEXT   a line shown with the file
  --timeout SECS   how long to wait for the relay to take the message (default 10)`,
  options: { caption: { type: 'string' }, timeout: { type: 'string' } },
  positionals: [2, 2],
  async run({ out, home, values, positionals }) {
    const wait = timeoutMs(values);
    const client = await openInitialized(home, wait);
    const progress = progressReporter(out, 'upload');
    try {
      const contact = client.findContact(positionals[0]!);
      const caption = stringOpt(values, 'caption');
      const message = await client.sendAttachment(contact.id, positionals[1]!, { onProgress: progress.onProgress, ...(caption !== undefined ? { caption } : {}) });
      progress.finish();
      try {
        await client.connect({ timeoutMs: wait });
        await client.flush(wait);
      } catch (err) {
        if (isClientError(err, 'RELAY_UNREACHABLE') || isClientError(err, 'TIMEOUT')) {
          throw new ClientError(err.code, `${err.message}; the file is uploaded and the message is queued for the next time pigeon connects`);
        }
        throw err;
      }
      const state = client.messages(contact.id).find((m) => m.id === message.id)?.state ?? message.state;
      out.data({ ...message, state, contactName: contact.name, attachment: client.attachment(message.id) });
      out.line(`File to ${safeText(contact.name)}: ${state} (message ${message.id})`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
