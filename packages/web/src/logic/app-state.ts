/**
 * The UI's state and its reducer: contacts, per-contact messages, unread counts, connection.
 * Pure (no SDK calls), so it is unit-tested directly; App.tsx feeds it SDK events.
 */
import type { ConnectionState, Contact, MessageRequest, StoredMessage } from '@pigeon/client';
import type { KeyChangeWarning } from './key-change.js';

export type View =
  | { name: 'list' }
  | { name: 'chat'; contactId: string }
  | { name: 'invite' }
  | { name: 'accept'; link?: string }
  | { name: 'safety'; contactId: string }
  | { name: 'settings' }
  // groups (logic/groups.ts holds their state)
  | { name: 'group'; groupId: string }
  | { name: 'group-info'; groupId: string }
  | { name: 'new-group' }
  | { name: 'group-joining'; groupId: string; groupName: string };

export interface AppState {
  readonly contacts: readonly Contact[];
  readonly messages: Readonly<Record<string, readonly StoredMessage[]>>;
  readonly connection: ConnectionState;
  readonly outbox: number;
  readonly view: View;
  readonly warnings: readonly KeyChangeWarning[];
  readonly storageFailed: boolean;
  /** contactId -> when their last 'typing' start arrived (cleared on stop, on a message, or after TYPING_TTL_MS). */
  readonly typing: Readonly<Record<string, number>>;
  /** Message requests from unknown senders (shown apart from the conversations). */
  readonly requests: readonly MessageRequest[];
}

export type Action =
  | { type: 'loaded'; contacts: Contact[]; messages: Record<string, StoredMessage[]>; warnings: KeyChangeWarning[] }
  | { type: 'contact'; contact: Contact }
  | { type: 'message'; message: StoredMessage }
  | { type: 'status'; message: StoredMessage }
  | { type: 'read'; contactId: string; ids: readonly string[] }
  | { type: 'connection'; state: ConnectionState }
  | { type: 'outbox'; count: number }
  | { type: 'navigate'; view: View }
  | { type: 'warnings'; warnings: KeyChangeWarning[] }
  | { type: 'storage_failed' }
  | { type: 'reload'; contactId: string; messages: StoredMessage[] }
  | { type: 'typing'; contactId: string; at: number | null }
  | { type: 'requests'; requests: MessageRequest[] };

export const initialState: AppState = {
  contacts: [],
  messages: {},
  connection: 'offline',
  outbox: 0,
  view: { name: 'list' },
  warnings: [],
  storageFailed: false,
  typing: {},
  requests: [],
};

function upsertMessage(list: readonly StoredMessage[], m: StoredMessage): StoredMessage[] {
  const at = list.findIndex((x) => x.id === m.id);
  if (at >= 0) {
    const next = list.slice();
    next[at] = m;
    return next;
  }
  // Keep oldest first by sentAt; new messages almost always go at the end.
  const next = list.slice();
  let i = next.length;
  while (i > 0 && next[i - 1]!.sentAt > m.sentAt) i--;
  next.splice(i, 0, m);
  return next;
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'loaded':
      return { ...state, contacts: action.contacts, messages: action.messages, warnings: action.warnings };
    case 'contact': {
      const exists = state.contacts.some((c) => c.id === action.contact.id);
      const contacts = exists ? state.contacts.map((c) => (c.id === action.contact.id ? action.contact : c)) : [...state.contacts, action.contact];
      return { ...state, contacts };
    }
    case 'message': {
      const m = action.message;
      const typing = { ...state.typing };
      if (m.direction === 'in') delete typing[m.contactId];
      return { ...state, typing, messages: { ...state.messages, [m.contactId]: upsertMessage(state.messages[m.contactId] ?? [], m) } };
    }
    case 'status': {
      // A status event carries the delivery state; the extras (reactions, edits) stay as they are.
      const m = action.message;
      const list = state.messages[m.contactId] ?? [];
      const old = list.find((x) => x.id === m.id);
      return { ...state, messages: { ...state.messages, [m.contactId]: upsertMessage(list, old ? { ...old, state: m.state } : m) } };
    }
    case 'reload':
      return { ...state, messages: { ...state.messages, [action.contactId]: action.messages } };
    case 'typing': {
      const typing = { ...state.typing };
      if (action.at === null) delete typing[action.contactId];
      else typing[action.contactId] = action.at;
      return { ...state, typing };
    }
    case 'requests':
      return { ...state, requests: action.requests };
    case 'read': {
      const ids = new Set(action.ids);
      const list = (state.messages[action.contactId] ?? []).map((m) => (ids.has(m.id) ? { ...m, read: true } : m));
      return { ...state, messages: { ...state.messages, [action.contactId]: list } };
    }
    case 'connection':
      return { ...state, connection: action.state };
    case 'outbox':
      return { ...state, outbox: action.count };
    case 'navigate':
      return { ...state, view: action.view };
    case 'warnings':
      return { ...state, warnings: action.warnings };
    case 'storage_failed':
      return { ...state, storageFailed: true };
  }
}

export function unreadCount(state: AppState, contactId: string): number {
  return (state.messages[contactId] ?? []).filter((m) => m.direction === 'in' && !m.read).length;
}

export function lastMessage(state: AppState, contactId: string): StoredMessage | undefined {
  const list = state.messages[contactId];
  return list?.[list.length - 1];
}

/** Contacts with the most recent conversation first; contacts without messages by when they were added. */
export function sortedConversations(state: AppState): Contact[] {
  const last = (c: Contact) => lastMessage(state, c.id)?.sentAt ?? c.addedAt;
  return [...state.contacts].sort((a, b) => last(b) - last(a));
}

export function activeContactId(view: View): string | null {
  return view.name === 'chat' || view.name === 'safety' ? view.contactId : null;
}
