/**
 * Groups in the UI: their state and reducer (fed by `client.groups` events in ui/useGroups.ts),
 * unread counts, the mixed conversation list, what the user may do in a group (and why not),
 * and group invite links in pasted text or the URL fragment. Pure, so it is unit-tested directly.
 */
import type { Contact, Group, GroupMessage } from '@pigeon/client';
import { GROUP_LINK_PREFIX } from '@pigeon/client';
import type { MessageKey } from '../i18n/index.js';

export interface GroupsState {
  readonly groups: readonly Group[];
  /** groupId -> messages, oldest first. */
  readonly messages: Readonly<Record<string, readonly GroupMessage[]>>;
}

export type GroupsAction =
  | { type: 'loaded'; groups: Group[]; messages: Record<string, GroupMessage[]> }
  | { type: 'group'; group: Group }
  | { type: 'message'; message: GroupMessage }
  | { type: 'reload'; groupId: string; messages: GroupMessage[] }
  | { type: 'read'; groupId: string; ids: readonly string[] };

export const initialGroupsState: GroupsState = { groups: [], messages: {} };

function upsert(list: readonly GroupMessage[], m: GroupMessage): GroupMessage[] {
  const at = list.findIndex((x) => x.id === m.id);
  const next = list.slice();
  if (at >= 0) {
    next[at] = m;
    return next;
  }
  let i = next.length;
  while (i > 0 && next[i - 1]!.sentAt > m.sentAt) i--;
  next.splice(i, 0, m);
  return next;
}

export function groupsReducer(state: GroupsState, action: GroupsAction): GroupsState {
  switch (action.type) {
    case 'loaded':
      return { groups: action.groups, messages: action.messages };
    case 'group': {
      const g = action.group;
      const exists = state.groups.some((x) => x.id === g.id);
      return { ...state, groups: exists ? state.groups.map((x) => (x.id === g.id ? g : x)) : [...state.groups, g] };
    }
    case 'message': {
      const m = action.message;
      return { ...state, messages: { ...state.messages, [m.groupId]: upsert(state.messages[m.groupId] ?? [], m) } };
    }
    case 'reload':
      return { ...state, messages: { ...state.messages, [action.groupId]: action.messages } };
    case 'read': {
      const ids = new Set(action.ids);
      const list = (state.messages[action.groupId] ?? []).map((m) => (ids.has(m.id) ? { ...m, read: true } : m));
      return { ...state, messages: { ...state.messages, [action.groupId]: list } };
    }
  }
}

export function groupUnreadCount(state: GroupsState, groupId: string): number {
  return (state.messages[groupId] ?? []).filter((m) => m.direction === 'in' && !m.read).length;
}

export function unreadGroupIds(state: GroupsState, groupId: string): string[] {
  return (state.messages[groupId] ?? []).filter((m) => m.direction === 'in' && !m.read).map((m) => m.id);
}

export function lastGroupMessage(state: GroupsState, groupId: string): GroupMessage | undefined {
  const list = state.messages[groupId];
  return list?.[list.length - 1];
}

/** One row of the sidebar: a 1:1 chat or a group, ordered together by their latest activity. */
export type ConversationItem = { readonly kind: 'contact'; readonly contact: Contact; readonly at: number } | { readonly kind: 'group'; readonly group: Group; readonly at: number };

export function mixConversations(contacts: readonly { contact: Contact; at: number }[], state: GroupsState): ConversationItem[] {
  const items: ConversationItem[] = contacts.map((c) => ({ kind: 'contact', contact: c.contact, at: c.at }));
  for (const g of state.groups) items.push({ kind: 'group', group: g, at: lastGroupMessage(state, g.id)?.sentAt ?? g.createdAt });
  // Stable sort: contacts keep their own order among equals.
  return items.sort((a, b) => b.at - a.at);
}

/**
 * Whether a change may be attempted, and the reason shown when not. Changes are signed with the
 * account key (only on the first device; ACCOUNT_KEY_REQUIRED elsewhere) and most need an admin.
 * `hasAccountKey` is null while it is not known yet.
 */
export type Permission = { readonly ok: true } | { readonly ok: false; readonly reason: MessageKey };

export function groupPermission(group: Group, action: 'admin' | 'leave', hasAccountKey: boolean | null): Permission {
  if (!group.active) return { ok: false, reason: 'groupNotMember' };
  if (hasAccountKey === false) return { ok: false, reason: 'groupNeedsAccountKey' };
  if (action === 'admin' && !group.isAdmin) return { ok: false, reason: 'groupNeedsAdmin' };
  return { ok: true };
}

/** Creating a group needs only the account key. */
export function createPermission(hasAccountKey: boolean | null): Permission {
  return hasAccountKey === false ? { ok: false, reason: 'groupNeedsAccountKey' } : { ok: true };
}

/** Contacts that can still be added to the group (not members yet). */
export function addableContacts(group: Group, contacts: readonly Contact[]): Contact[] {
  const members = new Set(group.members.map((m) => m.id));
  return contacts.filter((c) => !members.has(c.id));
}

/**
 * Group invite links in the browser: the SDK's `pigeon://group/<payload>`, or the web form
 * `https://relay/app/#group=<payload>` (opening it starts the app; a fragment never reaches the server).
 */
export const GROUP_FRAGMENT = 'group=';
const PAYLOAD = /^[A-Za-z0-9_-]+$/;
/** A group link holds a contact invite (≤ 2 KB) plus the name: well under this. */
const MAX_GROUP_LINK_CHARS = 8_192;

export function extractGroupLink(input: string): string | null {
  const text = input.trim();
  if (text.length === 0 || text.length > MAX_GROUP_LINK_CHARS) return null;
  let payload: string | null = null;
  if (text.startsWith(GROUP_LINK_PREFIX)) payload = text.slice(GROUP_LINK_PREFIX.length);
  else {
    const at = text.indexOf('#' + GROUP_FRAGMENT);
    if (at >= 0) payload = text.slice(at + 1 + GROUP_FRAGMENT.length).split('&')[0] ?? null;
  }
  if (payload === null || !PAYLOAD.test(payload)) return null;
  return GROUP_LINK_PREFIX + payload;
}

export function webGroupLink(sdkLink: string, appUrl: string): string {
  if (!sdkLink.startsWith(GROUP_LINK_PREFIX)) throw new Error('not a group link');
  const base = appUrl.split('#')[0]!.split('?')[0]!;
  return `${base}#${GROUP_FRAGMENT}${sdkLink.slice(GROUP_LINK_PREFIX.length)}`;
}

/** The author's name as the user knows them now (a member may have become a contact since the message arrived). */
export function senderNameOf(m: GroupMessage, contacts: readonly Contact[]): string {
  return contacts.find((c) => c.id === m.senderId)?.name ?? m.senderName;
}

/** The message for an SDK error code of a group action (the code is shown too); `fallback` for the rest. */
export function groupErrorKey(code: string, fallback: MessageKey): MessageKey {
  switch (code) {
    case 'GROUP_PERMISSION':
      return 'groupErrPermission';
    case 'ACCOUNT_KEY_REQUIRED':
      return 'groupErrAccountKey';
    case 'GROUP_FULL':
      return 'groupErrFull';
    case 'UNKNOWN_GROUP':
      return 'groupErrUnknown';
    case 'BAD_LINK':
      return 'groupErrBadLink';
    default:
      return fallback;
  }
}
