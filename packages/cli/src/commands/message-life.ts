/**
 * Message life from the command line (docs/message-life.md): reply, react, edit, delete,
 * timer, block, unblock, report, requests. Each one queues its change, connects, and waits
 * for the relay to take it (like `send`).
 */
import { ClientError, isClientError } from '@pigeon/client';
import type { PigeonClient, StoredMessage } from '@pigeon/client';
import type { Command, CommandContext } from '../command.js';
import { timeoutMs } from '../command.js';
import { keyChangeWarning, safeText } from '../format.js';
import { openInitialized } from '../profile.js';
import { MIN_ID_PREFIX } from './download.js';

const TIMEOUT_HELP = '  --timeout SECS   how long to wait for the relay (default 10)';

/** A message of any chat by its id or a unique prefix (at least MIN_ID_PREFIX characters). */
export function findMessage(client: PigeonClient, query: string): StoredMessage {
  const q = query.trim().toLowerCase();
  if (q.length < MIN_ID_PREFIX) throw new ClientError('BAD_ARGUMENT', `give a message id (or at least ${MIN_ID_PREFIX} characters of one); pigeon chat --ids shows them`);
  const matches: StoredMessage[] = [];
  for (const c of client.contacts()) for (const m of client.messages(c.id)) if (m.id.startsWith(q)) matches.push(m);
  if (matches.length === 0) throw new ClientError('UNKNOWN_MESSAGE', 'no message with this id');
  if (matches.length > 1) throw new ClientError('BAD_ARGUMENT', 'more than one message starts with this id; give more of it');
  return matches[0]!;
}

/** "30s", "5m", "1h", "7d", "1w" or "off" -> ms (0 = off). */
export function parseDuration(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === '0') return 0;
  const m = /^(\d+)\s*(s|m|h|d|w)$/.exec(t);
  if (!m) throw new ClientError('BAD_ARGUMENT', 'give a duration like 30s, 5m, 1h, 7d, 1w, or off');
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}

export function formatDuration(ms: number): string {
  if (ms === 0) return 'off';
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}

/** Runs `act` with an opened client, then connects and waits for the outbox to reach the relay. */
async function withDelivery(ctx: CommandContext, act: (client: PigeonClient) => Promise<void>): Promise<number> {
  const wait = timeoutMs(ctx.values);
  const client = await openInitialized(ctx.home, wait);
  try {
    await act(client);
    try {
      await client.connect({ timeoutMs: wait });
      await client.flush(wait);
    } catch (err) {
      if (isClientError(err, 'RELAY_UNREACHABLE') || isClientError(err, 'TIMEOUT')) {
        throw new ClientError(err.code, `${err.message}; it is queued and will be sent the next time pigeon connects`);
      }
      throw err;
    }
    return 0;
  } finally {
    await client.close();
  }
}

function explainKeyChange(client: PigeonClient, contactId: string, err: unknown): never {
  if (isClientError(err, 'IDENTITY_CHANGED')) {
    const contact = client.contacts().find((c) => c.id === contactId);
    if (contact) throw new ClientError('IDENTITY_CHANGED', keyChangeWarning(contact));
  }
  throw err;
}

export const replyCommand: Command = {
  name: 'reply',
  summary: 'reply to a message (quoting it)',
  help: `Usage: pigeon reply <contact> <message-id> <text...>

Sends <text> as a reply to a message of your chat with <contact>; the reply carries the
message id and the start of its text. A unique prefix of the id (at least ${MIN_ID_PREFIX}
characters) is enough; pigeon chat --ids shows ids.

Options:
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' } },
  positionals: [3, Infinity],
  run: (ctx) =>
    withDelivery(ctx, async (client) => {
      const contact = client.findContact(ctx.positionals[0]!);
      const target = findMessage(client, ctx.positionals[1]!);
      if (target.contactId !== contact.id) throw new ClientError('UNKNOWN_MESSAGE', `that message is not in your chat with ${contact.name}`);
      const m = await client.reply(target.id, ctx.positionals.slice(2).join(' ')).catch((err: unknown) => explainKeyChange(client, contact.id, err));
      ctx.out.data({ ...m, contactName: contact.name });
      ctx.out.line(`Reply to ${safeText(contact.name)} queued (${m.id.slice(0, 8)})`);
    }),
};

export const reactCommand: Command = {
  name: 'react',
  summary: 'react to a message with an emoji (--remove to take it back)',
  help: `Usage: pigeon react <message-id> <emoji>
       pigeon react <message-id> --remove

One reaction per person per message: a new one replaces yours.

Options:
  --remove         remove your reaction
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' }, remove: { type: 'boolean' } },
  positionals: [1, 2],
  run: (ctx) =>
    withDelivery(ctx, async (client) => {
      const target = findMessage(client, ctx.positionals[0]!);
      const remove = ctx.values['remove'] === true;
      const emoji = ctx.positionals[1];
      if (!remove && emoji === undefined) throw new ClientError('BAD_ARGUMENT', 'give an emoji, or --remove');
      const m = await client.react(target.id, remove ? null : emoji!).catch((err: unknown) => explainKeyChange(client, target.contactId, err));
      ctx.out.data({ event: 'reacted', messageId: m.id, reactions: m.reactions ?? [] });
      ctx.out.line(remove ? 'Reaction removed' : `Reacted ${safeText(emoji!)}`);
    }),
};

export const editCommand: Command = {
  name: 'edit',
  summary: 'change the text of a message you sent',
  help: `Usage: pigeon edit <message-id> <new text...>

Replaces the text of one of your messages on every device of the chat; it shows as edited.

Options:
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' } },
  positionals: [2, Infinity],
  run: (ctx) =>
    withDelivery(ctx, async (client) => {
      const target = findMessage(client, ctx.positionals[0]!);
      const m = await client.edit(target.id, ctx.positionals.slice(1).join(' ')).catch((err: unknown) => explainKeyChange(client, target.contactId, err));
      ctx.out.data({ event: 'edited', messageId: m.id, text: m.text });
      ctx.out.line('Message edited');
    }),
};

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a message you sent, for everyone (within 24 hours)',
  help: `Usage: pigeon delete <message-id>

Replaces one of your messages with "message deleted" on every device of the chat.
Works for 24 hours after sending. Nothing can make the other side unsee what they read.

Options:
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withDelivery(ctx, async (client) => {
      const target = findMessage(client, ctx.positionals[0]!);
      const m = await client.deleteForEveryone(target.id);
      ctx.out.data({ event: 'deleted', messageId: m.id });
      ctx.out.line('Message deleted for everyone');
    }),
};

export const timerCommand: Command = {
  name: 'timer',
  summary: 'show or set the disappearing-messages timer of a chat',
  help: `Usage: pigeon timer <contact> [duration|off]

With a duration (30s, 5m, 1h, 7d, 1w) new messages in the chat disappear that long after
they are read (yours: after they are sent), on both sides. "off" turns it off. Either
side may change it. Without a duration, shows the current timer.

Options:
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' } },
  positionals: [1, 2],
  async run(ctx) {
    if (ctx.positionals[1] === undefined) {
      const client = await openInitialized(ctx.home);
      try {
        const contact = client.findContact(ctx.positionals[0]!);
        const ms = client.disappearingTimer(contact.id);
        ctx.out.data({ contactId: contact.id, timerMs: ms });
        ctx.out.line(`Disappearing messages with ${safeText(contact.name)}: ${formatDuration(ms)}`);
        return 0;
      } finally {
        await client.close();
      }
    }
    const ms = parseDuration(ctx.positionals[1]);
    return withDelivery(ctx, async (client) => {
      const contact = client.findContact(ctx.positionals[0]!);
      await client.setDisappearingTimer(contact.id, ms).catch((err: unknown) => explainKeyChange(client, contact.id, err));
      ctx.out.data({ contactId: contact.id, timerMs: ms });
      ctx.out.line(`Disappearing messages with ${safeText(contact.name)}: ${formatDuration(ms)}`);
    });
  },
};

function blockLike(name: 'block' | 'report'): Command {
  return {
    name,
    summary: name === 'block' ? 'stop a contact from reaching you' : 'report a contact (recorded on this device only) and block it',
    help: `Usage: pigeon ${name} <contact>${name === 'report' ? ' [note...]' : ''}

Their messages are dropped when they arrive, and your delivery token (which they hold)
is replaced at the relay, so the relay refuses what they send. Your other contacts get
the new token inside encrypted messages and keep working.${
      name === 'report'
        ? `
There is no server-side moderation: the report is recorded in this profile only.`
        : ''
    }
Undo with: pigeon unblock <contact>

Options:
${TIMEOUT_HELP}`,
    options: { timeout: { type: 'string' } },
    positionals: name === 'block' ? [1, 1] : [1, Infinity],
    run: (ctx) =>
      withDelivery(ctx, async (client) => {
        const contact = client.findContact(ctx.positionals[0]!);
        await client.connect({ timeoutMs: timeoutMs(ctx.values) }).catch(() => undefined);
        const result = name === 'block' ? await client.block(contact.id) : await client.report(contact.id, ctx.positionals.slice(1).join(' '));
        ctx.out.data({ event: name === 'block' ? 'blocked' : 'reported', contactId: contact.id, ...result });
        ctx.out.line(`${name === 'block' ? 'Blocked' : 'Reported and blocked'} ${safeText(contact.name)}`);
        if (!result.tokenRotated) ctx.out.note('The relay could not be reached: the delivery token is replaced the next time pigeon connects.');
      }),
  };
}
export const blockCommand = blockLike('block');
export const reportCommand = blockLike('report');

export const unblockCommand: Command = {
  name: 'unblock',
  summary: 'let a blocked contact reach you again',
  help: `Usage: pigeon unblock <contact>

Options:
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' } },
  positionals: [1, 1],
  run: (ctx) =>
    withDelivery(ctx, async (client) => {
      const contact = client.findContact(ctx.positionals[0]!);
      await client.unblock(contact.id);
      ctx.out.data({ event: 'unblocked', contactId: contact.id });
      ctx.out.line(`Unblocked ${safeText(contact.name)}`);
    }),
};

export const requestsCommand: Command = {
  name: 'requests',
  summary: 'messages from people who are not your contacts',
  help: `Usage: pigeon requests
       pigeon requests accept <id> [--name NAME]
       pigeon requests reject <id> [--block]

Mail from unknown senders (an invite that expired or was used, or someone who got your
address elsewhere) is held apart: no receipts are sent and it is not in your inbox.
Accepting makes the sender a contact (their messages move to the chat); rejecting
deletes them. <id> may be a unique prefix of the request id.

Options:
  --name NAME      the contact's name when accepting
  --block          also block the sender when rejecting
${TIMEOUT_HELP}`,
  options: { timeout: { type: 'string' }, name: { type: 'string' }, block: { type: 'boolean' } },
  positionals: [0, 2],
  async run(ctx) {
    const [action, query] = ctx.positionals;
    const client = await openInitialized(ctx.home);
    try {
      if (action === undefined) {
        try {
          await client.connect({ timeoutMs: timeoutMs(ctx.values) });
          await client.sync(timeoutMs(ctx.values));
        } catch {
          ctx.out.note('Could not reach the relay: showing what this device already has.');
        }
        const all = client.requests();
        ctx.out.data({ requests: all.map((r) => ({ ...r, messagesText: client.life.requestMessages(r.id).map((m) => m.text) })) });
        if (all.length === 0) ctx.out.line('No message requests.');
        for (const r of all) {
          ctx.out.line(`${r.id.slice(0, 12)}  ${safeText(r.name || 'unknown sender')} (${r.pigeonId})  ${r.messages} message(s)${r.introduced ? '' : '  [not introduced: cannot be accepted yet]'}`);
          for (const m of client.life.requestMessages(r.id)) ctx.out.line(`    ${safeText(m.text)}`);
        }
        return 0;
      }
      if ((action !== 'accept' && action !== 'reject') || !query) throw new ClientError('BAD_ARGUMENT', 'use: pigeon requests [accept|reject <id>]');
      const matches = client.requests().filter((r) => r.id.startsWith(query.toLowerCase()));
      if (matches.length !== 1) throw new ClientError('BAD_ARGUMENT', matches.length === 0 ? 'no message request with this id' : 'more than one request starts with this id');
      const r = matches[0]!;
      if (action === 'accept') {
        const name = typeof ctx.values['name'] === 'string' ? ctx.values['name'] : undefined;
        const contact = await client.acceptRequest(r.id, name === undefined ? {} : { name });
        ctx.out.data({ event: 'accepted', contact });
        ctx.out.line(`${safeText(contact.name)} is now a contact`);
      } else {
        await client.rejectRequest(r.id, { block: ctx.values['block'] === true });
        ctx.out.data({ event: 'rejected', id: r.id, blocked: ctx.values['block'] === true });
        ctx.out.line(ctx.values['block'] === true ? 'Request rejected and sender blocked' : 'Request rejected');
      }
      return 0;
    } finally {
      await client.close();
    }
  },
};

export const MESSAGE_LIFE_COMMANDS: readonly Command[] = [
  replyCommand,
  reactCommand,
  editCommand,
  deleteCommand,
  timerCommand,
  blockCommand,
  unblockCommand,
  reportCommand,
  requestsCommand,
];
