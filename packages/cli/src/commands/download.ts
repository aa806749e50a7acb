import { ClientError } from '@pigeon/client';
import type { PigeonClient } from '@pigeon/client';
import type { Command } from '../command.js';
import { safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { progressReporter } from '../progress.js';

/** Shortest message-id prefix accepted in place of the full id. */
export const MIN_ID_PREFIX = 6;

interface Listed {
  readonly id: string;
  readonly contactName: string;
  readonly fileName: string;
  readonly size: number;
  readonly sentAt: number;
}

function attachments(client: PigeonClient): Listed[] {
  const out: Listed[] = [];
  for (const c of client.contacts()) {
    for (const m of client.messages(c.id)) {
      const info = client.attachment(m.id);
      if (info) out.push({ id: m.id, contactName: c.name, fileName: info.fileName, size: info.size, sentAt: m.sentAt });
    }
  }
  // Files sent to our groups (the download itself finds their references the same way).
  for (const g of client.groups.list()) {
    for (const m of client.groups.messages(g.id)) {
      const info = client.groups.attachment(m.id);
      if (info) out.push({ id: m.id, contactName: `${m.senderName} in ${g.name}`, fileName: info.fileName, size: info.size, sentAt: m.sentAt });
    }
  }
  return out.sort((a, b) => a.sentAt - b.sentAt);
}

export const downloadCommand: Command = {
  name: 'download',
  summary: 'download, verify and decrypt a received file',
  help: `Usage: pigeon download <message-id> [dest]
       pigeon download --list

Fetches the file a message carries from the sender's relay (resuming after dropped
connections), checks every chunk and the whole file against the message's hash, and
writes it to dest (a file, or a directory to put it in under its own name; default:
the current directory). A unique prefix of the message id (at least ${MIN_ID_PREFIX}
characters) is enough. --list shows the files in your messages and their ids.`,
  options: { list: { type: 'boolean' } },
  positionals: [0, 2],
  async run({ out, home, values, positionals }) {
    const client = await openInitialized(home);
    try {
      const all = attachments(client);
      if (values['list'] === true) {
        out.data({ attachments: all });
        if (all.length === 0) out.line('No files.');
        for (const a of all) out.line(`${a.id}  ${safeText(a.contactName)}  ${safeText(a.fileName)} (${a.size} bytes)`);
        return 0;
      }
      const query = (positionals[0] ?? '').toLowerCase();
      if (query.length < MIN_ID_PREFIX) throw new ClientError('BAD_ARGUMENT', `give a message id (or at least ${MIN_ID_PREFIX} characters of one); see pigeon download --list`);
      const matches = all.filter((a) => a.id.startsWith(query));
      if (matches.length === 0) throw new ClientError('UNKNOWN_MESSAGE', 'no file with this message id');
      if (matches.length > 1) throw new ClientError('BAD_ARGUMENT', 'more than one message starts with this id; give more of it');
      const progress = progressReporter(out, 'download');
      const got = await client.downloadAttachment(matches[0]!.id, positionals[1] ?? '.', { onProgress: progress.onProgress });
      progress.finish();
      out.data({ event: 'downloaded', messageId: matches[0]!.id, path: got.path, size: got.size });
      out.line(`Saved ${safeText(got.path)} (${got.size} bytes, verified)`);
      return 0;
    } finally {
      await client.close();
    }
  },
};
