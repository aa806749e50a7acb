/**
 * Invite tokens (docs/message-life.md, "Invite links and blocking"): each invite link carries a
 * delivery token of its own instead of our account's token, so blocking someone (which rotates
 * the account's token) leaves the invite links already handed out working. The relay holds them
 * beside the account token (set_delivery_tokens); this file keeps the local list and decides
 * which ones the relay must add or drop. The list lives in the state table as JSON, bounded by
 * MAX_INVITE_TOKENS.
 *
 * Life of one token: issued unregistered -> registered at the relay -> retired at `retireAt`
 * (if set) or at the invite's expiry, then removed from the relay and from the list. When an
 * invite is used its new contact is sent our account token at once, and its invite token is kept
 * INVITE_TOKEN_GRACE_MS for the contact's sends already on their way; blocking that contact
 * retires its invite token at once.
 */
import { INVITE_TTL_MS } from '../limits.js';

export const INVITE_TOKENS_KEY = 'life.invite_tokens';
/** Outstanding invite tokens kept; a new one beyond this retires the oldest unused one. */
export const MAX_INVITE_TOKENS = 500;
/** How long a used invite's token still works for its contact (queued sends, a phone offline). */
export const INVITE_TOKEN_GRACE_MS = INVITE_TTL_MS;

export interface InviteToken {
  /** Hex of the token the link carries. */
  readonly token: string;
  /** Hex of the invite's secret (store.putInvite). */
  readonly secret: string;
  readonly expiresAt: number;
  /** The relay confirmed it (set_delivery_tokens answered ok). */
  readonly registered: boolean;
  /** The contact that used the invite, once it did. */
  readonly contactId: string | null;
  /** Overrides the expiry: grace end after use, or now when that contact was blocked. */
  readonly retireAt: number | null;
}

export function isRetired(t: InviteToken, now: number): boolean {
  return (t.retireAt ?? t.expiresAt) <= now;
}

function isInviteToken(v: unknown): v is InviteToken {
  const t = v as Partial<InviteToken> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.token === 'string' &&
    typeof t.secret === 'string' &&
    typeof t.expiresAt === 'number' &&
    typeof t.registered === 'boolean' &&
    (t.contactId === null || typeof t.contactId === 'string') &&
    (t.retireAt === null || typeof t.retireAt === 'number')
  );
}

/** The stored list; damaged entries are skipped (the relay side then expires with the account token). */
export function parseInviteTokens(json: string | undefined): InviteToken[] {
  if (json === undefined) return [];
  try {
    const value: unknown = JSON.parse(json);
    return Array.isArray(value) ? value.filter(isInviteToken) : [];
  } catch {
    return [];
  }
}

export function serializeInviteTokens(list: readonly InviteToken[]): string {
  return JSON.stringify(list);
}

/** Adds a token for a new invite; beyond MAX_INVITE_TOKENS the oldest unused one is retired now. */
export function withNewToken(list: readonly InviteToken[], token: string, secret: string, now: number): InviteToken[] {
  let out = [...list, { token, secret, expiresAt: now + INVITE_TTL_MS, registered: false, contactId: null, retireAt: null }];
  let live = out.filter((t) => !isRetired(t, now));
  while (live.length > MAX_INVITE_TOKENS) {
    const oldest = live.find((t) => t.contactId === null) ?? live[0]!;
    out = out.map((t) => (t === oldest ? { ...t, retireAt: now } : t));
    live = out.filter((t) => !isRetired(t, now));
  }
  return out;
}

/** The invite `secret` was used by `contactId`: its token lives on for the grace period only. */
export function withUsedInvite(list: readonly InviteToken[], secret: string, contactId: string, now: number): InviteToken[] {
  return list.map((t) => (t.secret === secret ? { ...t, contactId, retireAt: now + INVITE_TOKEN_GRACE_MS } : t));
}

/** `contactId` was blocked: the tokens of invites it used stop working now. */
export function withBlockedContact(list: readonly InviteToken[], contactId: string, now: number): InviteToken[] {
  return list.map((t) => (t.contactId === contactId ? { ...t, retireAt: now } : t));
}

/** What the relay must be told, and what can leave the list without telling it (never registered). */
export function dueChanges(list: readonly InviteToken[], now: number): { add: InviteToken[]; remove: InviteToken[]; forget: InviteToken[] } {
  const add: InviteToken[] = [];
  const remove: InviteToken[] = [];
  const forget: InviteToken[] = [];
  for (const t of list) {
    const retired = isRetired(t, now);
    if (!t.registered && !retired) add.push(t);
    else if (t.registered && retired) remove.push(t);
    else if (!t.registered && retired) forget.push(t);
  }
  return { add, remove, forget };
}

/** After the relay said ok to `add`/`remove`: registered marks set, removed tokens gone. */
export function afterSync(list: readonly InviteToken[], added: ReadonlySet<string>, removed: ReadonlySet<string>, forgotten: ReadonlySet<string>): InviteToken[] {
  return list.filter((t) => !removed.has(t.token) && !forgotten.has(t.token)).map((t) => (added.has(t.token) ? { ...t, registered: true } : t));
}
