import type { Group, GroupMessage, PigeonClient } from '@pigeon/client';
import type { Command, CommandContext } from '../command.js';
import { stringOpt, timeoutMs } from '../command.js';
import { UsageError } from '../errors.js';
import { safeText, time } from '../format.js';
import { connectForInvite } from '../invite-connect.js';
import { openInitialized } from '../profile.js';
import { progressReporter } from '../progress.js';
import { terminalQr } from '../qr.js';

/** Messages `group history` shows without --limit. */
const HISTORY_DEFAULT = 50;
/** After a change, how long to wait for the relay to take it before saying it stays queued. */
const FLUSH_NOTE = 'the change is queued and goes out the next time pigeon connects';

export function groupLine(g: Group): string {
  const state = g.active ? (g.isAdmin ? 'admin' : 'member') : 'left';
  return `${safeText(g.name)}  (${g.members.length} member${g.members.length === 1 ? '' : 's'}, ${state})  ${g.id.slice(0, 12)}`;
}

/** `hasFile`: the message carries a file; its id is shown so `pigeon download <id>` can fetch it. */
export function groupMessageLine(m: GroupMessage, groupName: string, hasFile = false): string {
  const who = m.direction === 'out' ? 'you' : safeText(m.senderName);
  const file = hasFile ? `  (pigeon download ${m.id})` : '';
  return `[${time(m.sentAt)}] [${safeText(groupName)}] ${who}: ${safeText(m.text)}${file}`;
}

/** A group message for --json, with its file's name, type and size when it carries one. */
export function groupMessageJson(client: PigeonClient, m: GroupMessage, groupName: string | null): Record<string, unknown> {
  const attachment = client.groups.attachment(m.id);
  return { ...m, groupName, ...(attachment ? { attachment } : {}) };
}

function groupJson(g: Group): Record<string, unknown> {
  return { ...g };
}

const SUBCOMMANDS = ['create', 'add', 'remove', 'leave', 'admin', 'rename', 'info', 'list', 'invite', 'join', 'send-file', 'history'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** Connects and waits for the relay to take what the change queued; a dead relay leaves it queued (exit 1 with the code). */
async function deliver(client: PigeonClient, wait: number): Promise<void> {
  try {
    await client.connect({ timeoutMs: wait });
    await client.flush(wait);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'RELAY_UNREACHABLE' || code === 'TIMEOUT') throw Object.assign(new Error(`${(err as Error).message}; ${FLUSH_NOTE}`), { code });
    throw err;
  }
}

function need(positionals: readonly string[], count: number, sub: Sub): void {
  if (positionals.length < count) throw new UsageError(`group ${sub}: missing argument`, 'group');
}

async function runGroup(ctx: CommandContext): Promise<number> {
  const { out, home, values, positionals } = ctx;
  const sub = positionals[0] as Sub;
  if (!SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown group command "${positionals[0]}"`, 'group');
  const args = positionals.slice(1);
  const wait = timeoutMs(values);
  const client = await openInitialized(home, wait);
  try {
    const show = (g: Group, verb: string) => {
      out.data({ group: groupJson(g) });
      out.line(`${verb}: ${groupLine(g)}`);
    };
    switch (sub) {
      case 'list': {
        const groups = client.groups.list();
        out.data({ groups: groups.map(groupJson) });
        if (groups.length === 0) out.line('No groups yet. Create one with: pigeon group create <name> [contacts...]');
        for (const g of groups) out.line(groupLine(g));
        return 0;
      }
      case 'info': {
        need(args, 1, sub);
        const g = client.groups.find(args[0]!);
        out.data({ group: groupJson(g) });
        out.line(groupLine(g));
        out.line(`id: ${g.id}`);
        for (const m of g.members) out.line(`  ${safeText(m.name)}  ${m.pigeonId}${m.admin ? '  (admin)' : ''}`);
        return 0;
      }
      case 'create': {
        need(args, 1, sub);
        // Joining our contacts needs the relay for sessions: connect first (a dead relay fails early and changes nothing).
        await client.connect({ timeoutMs: wait });
        const g = await client.groups.create(args[0]!, args.slice(1));
        await deliver(client, wait);
        show(g, 'Created');
        return 0;
      }
      case 'add':
      case 'remove': {
        need(args, 2, sub);
        await client.connect({ timeoutMs: wait });
        const g = sub === 'add' ? await client.groups.add(args[0]!, args.slice(1)) : await client.groups.remove(args[0]!, args.slice(1));
        await deliver(client, wait);
        show(g, sub === 'add' ? 'Added' : 'Removed');
        return 0;
      }
      case 'leave': {
        need(args, 1, sub);
        await client.connect({ timeoutMs: wait });
        const g = await client.groups.leave(args[0]!);
        await deliver(client, wait);
        show(g, 'Left');
        return 0;
      }
      case 'admin': {
        need(args, 2, sub);
        await client.connect({ timeoutMs: wait });
        const g = await client.groups.setAdmin(args[0]!, args[1]!, values.revoke !== true);
        await deliver(client, wait);
        show(g, values.revoke === true ? 'No longer admin' : 'Admin');
        return 0;
      }
      case 'rename': {
        need(args, 2, sub);
        await client.connect({ timeoutMs: wait });
        const g = await client.groups.rename(args[0]!, args.slice(1).join(' '));
        await deliver(client, wait);
        show(g, 'Renamed');
        return 0;
      }
      case 'invite': {
        need(args, 1, sub);
        await connectForInvite(client, wait, out);
        const { link } = await client.groups.createInviteLink(args[0]!);
        out.data({ link });
        out.line(`Share this link with people you want in the group (anyone holding it can ask to join):\n${link}`);
        if (values.qr === true) out.line(await terminalQr(link));
        return 0;
      }
      case 'send-file': {
        need(args, 2, sub);
        const g = client.groups.find(args[0]!);
        const caption = stringOpt(values, 'caption');
        // Sealing may need members' bundles from the relay: connect first (a dead relay only queues it).
        await client.connect({ timeoutMs: wait }).catch(() => undefined);
        const progress = progressReporter(out, 'upload');
        const message = await client.groups.sendAttachment(g.id, args[1]!, { onProgress: progress.onProgress, ...(caption !== undefined ? { caption } : {}) });
        progress.finish();
        await deliver(client, wait);
        const state = client.groups.messages(g.id).find((m) => m.id === message.id)?.state ?? message.state;
        out.data(groupMessageJson(client, { ...message, state }, g.name));
        out.line(`File to group ${safeText(g.name)}: ${state} (message ${message.id})`);
        return 0;
      }
      case 'history': {
        need(args, 1, sub);
        const g = client.groups.find(args[0]!);
        const limit = stringOpt(values, 'limit');
        const count = limit === undefined ? HISTORY_DEFAULT : Number(limit);
        if (!Number.isInteger(count) || count < 1) throw new UsageError('--limit must be a positive whole number', 'group');
        const messages = client.groups.messages(g.id, { limit: count });
        out.data({ messages: messages.map((m) => groupMessageJson(client, m, g.name)) });
        if (messages.length === 0) out.line('No messages.');
        for (const m of messages) out.line(groupMessageLine(m, g.name, client.groups.attachment(m.id) !== undefined));
        return 0;
      }
      case 'join': {
        need(args, 1, sub);
        await client.connect({ timeoutMs: wait });
        const asked = await client.groups.joinByLink(args[0]!);
        await deliver(client, wait);
        out.data({ requested: asked });
        out.line(`Asked to join "${safeText(asked.name)}". You are in once an admin's device adds you (pigeon inbox shows it).`);
        return 0;
      }
    }
  } finally {
    await client.close();
  }
}

export const groupCommand: Command = {
  name: 'group',
  summary: 'create and manage groups (create, add, remove, leave, admin, rename, info, list, invite, join, send-file, history)',
  help: `Usage: pigeon group <subcommand> [arguments]

  create <name> [contact...]     a new group with you as its admin
  add <group> <contact...>       add contacts (admins)
  remove <group> <contact...>    remove members; the group rekeys so they read nothing after (admins)
  leave <group>                  leave the group
  admin <group> <contact> [--revoke]
                                 make a member an admin (or not)
  rename <group> <name>          rename the group (admins)
  info <group>                   members and admins
  list                           your groups
  invite <group> [--qr]          a pigeon://group/ link: holders become your contact and are added
  join <link>                    use a group link
  send-file <group> <path> [--caption TEXT]
                                 send a file (encrypted, uploaded once for every member)
  history <group> [--limit N]    the latest messages (files with the id pigeon download takes)

A group is named by its name or id (or the first 8+ hex digits of the id). Contacts are named
as in pigeon send. Send with: pigeon send --group <group> <text...>; pigeon inbox shows group
messages; pigeon chat --group <group> talks in one.

Membership changes are signed by an admin's account key and checked by every member; the
relay never learns who is in a group.

Options:
  --revoke         with admin: take admin rights away
  --qr             with invite: also draw the link as a QR code
  --caption TEXT   with send-file: a line shown with the file
  --limit N        with history: how many messages (default ${HISTORY_DEFAULT})
  --timeout SECS   how long to wait for the relay (default 10)`,
  options: { timeout: { type: 'string' }, revoke: { type: 'boolean' }, qr: { type: 'boolean' }, caption: { type: 'string' }, limit: { type: 'string' } },
  positionals: [1, Infinity],
  run: runGroup,
};

/** `pigeon send --group G text...` */
export async function sendToGroup(ctx: CommandContext, group: string): Promise<number> {
  const { out, home, values, positionals } = ctx;
  if (positionals.length < 1) throw new UsageError('missing message text', 'send');
  const wait = timeoutMs(values);
  const client = await openInitialized(home, wait);
  try {
    const g = client.groups.find(group);
    await client.connect({ timeoutMs: wait }).catch(() => undefined);
    const message = await client.groups.send(g.id, positionals.join(' '));
    await deliver(client, wait);
    const state = client.groups.messages(g.id).find((m) => m.id === message.id)?.state ?? message.state;
    out.data({ ...message, state, groupName: g.name });
    out.line(`Message to group ${safeText(g.name)}: ${state}`);
    return 0;
  } finally {
    await client.close();
  }
}
