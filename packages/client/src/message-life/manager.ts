/**
 * Message life (docs/message-life.md): replies, reactions, edits, delete for everyone,
 * disappearing messages, typing, blocking (with delivery-token rotation) and message requests.
 *
 * Everything travels as content type `life` (payload.ts) over the pairwise sessions, through
 * ClientInternals.sendContent, so it shares the outbox, the seen-id dedupe and the one-commit
 * rule with the rest of the client. Incoming `life` content from contacts arrives through the
 * extension hook (`handle`); the core asks `isBlocked` and `holdRequest` for strangers.
 */
import { fromHex, toHex, utf8 } from '@pigeon/crypto';
import { formatPigeonId } from '@pigeon/protocol';
import type { Content } from '../content.js';
import { Emitter } from '../emitter.js';
import { ClientError } from '../errors.js';
import type { ClientInternals, ExtensionInput, ExtensionResult, SendTarget } from '../internals.js';
import { CONTENT_ID_BYTES, DELIVERY_TOKEN_BYTES, MAX_NAME_BYTES, MAX_TEXT_BYTES } from '../limits.js';
import type { ContactRow, MessageMetaRow, MessageRow, RequestRow } from '../store/types.js';
import type { StoredMessage } from '../types.js';
import {
  DELETE_WINDOW_MS,
  MAX_QUOTE_CHARS,
  MAX_REACTION_BYTES,
  MAX_REPORT_NOTE_BYTES,
  MAX_SWEEP_DELAY_MS,
  MAX_TIMER_MS,
  MIN_TIMER_MS,
  SWEEP_BATCH,
  TYPING_MIN_INTERVAL_MS,
  TYPING_TTL_MS,
} from './limits.js';
import {
  afterSync,
  dueChanges,
  INVITE_TOKENS_KEY,
  parseInviteTokens,
  serializeInviteTokens,
  withBlockedContact,
  withNewToken,
  withUsedInvite,
  type InviteToken,
} from './invite-tokens.js';
import { decodeLifePayload, encodeLifePayload } from './payload.js';
import type { LifePayload } from './payload.js';
import type { BlockResult, BlockedContact, MessageRequest, MessageUpdate, TypingEvent } from './types.js';

/** The chat's disappearing timer lives in the state table (ms; missing = off). */
export const TIMER_STATE_PREFIX = 'life.timer.';
/** A token rotation started but not confirmed by the relay (retried on the next connection). */
export const PENDING_TOKEN_KEY = 'life.pending_token';
const ATTACHMENT_STATE_PREFIX = 'attachment.';

/** What the client core lends this module beyond ClientInternals. */
export interface LifeHost {
  readonly internals: ClientInternals;
  emitMessage(m: StoredMessage): void;
  /** After a request became a contact: remember its Pigeon ID, emit 'contact'. */
  contactAdded(row: ContactRow): Promise<void>;
  /** set_delivery_tokens on the authenticated connection; throws when offline or refused. */
  setDeliveryTokens(add: Uint8Array[], remove: Uint8Array[]): Promise<void>;
  ownToken(): Uint8Array;
  /** Stores our new delivery token in the identity row (inside the caller's transaction) and in memory. */
  setOwnToken(token: Uint8Array): void;
  deliveryReceiptsOn(): boolean;
  keyChangePending(contactId: string): boolean;
  /** Our other devices (sent-message sync), or [] when we have none. */
  ownSyncTargets(): Promise<SendTarget[]>;
  /** Every device of a contact its signed device list names (sessions are started for new ones). */
  targetsFor(contactId: string): Promise<SendTarget[]>;
}

interface LifeEvents extends Record<string, unknown> {
  update: MessageUpdate;
  typing: TypingEvent;
  request: MessageRequest;
}

function checkText(text: string): void {
  if (typeof text !== 'string' || text.length === 0) throw new ClientError('BAD_ARGUMENT', 'message is empty');
  if (utf8.encode(text).length > MAX_TEXT_BYTES) throw new ClientError('MESSAGE_TOO_LONG', `message is longer than ${MAX_TEXT_BYTES} bytes`);
}

function checkEmoji(emoji: string): void {
  if (typeof emoji !== 'string' || emoji.length === 0) throw new ClientError('BAD_ARGUMENT', 'reaction is empty');
  if (utf8.encode(emoji).length > MAX_REACTION_BYTES) throw new ClientError('BAD_ARGUMENT', `reaction is longer than ${MAX_REACTION_BYTES} bytes`);
  if (/[\u0000-\u001f\u007f\s]/u.test(emoji)) throw new ClientError('BAD_ARGUMENT', 'reaction contains spaces or control characters');
}

/** The quote a reply carries: the start of the quoted text, on whole code points. */
export function quoteOf(text: string): string {
  const chars = [...text];
  return chars.length <= MAX_QUOTE_CHARS ? text : chars.slice(0, MAX_QUOTE_CHARS).join('');
}

export class MessageLife {
  readonly #host: LifeHost;
  readonly #i: ClientInternals;
  readonly #events = new Emitter<LifeEvents>();
  /** contactId -> when we last sent 'typing on' (rate limit), deleted when we send 'off'. */
  readonly #typingSent = new Map<string, number>();
  #sweepTimer: ReturnType<typeof setTimeout> | null = null;
  #closed = false;

  constructor(host: LifeHost) {
    this.#host = host;
    this.#i = host.internals;
  }

  on<K extends keyof LifeEvents & string>(event: K, fn: (value: LifeEvents[K]) => void): () => void {
    return this.#events.on(event, fn);
  }

  #emit<K extends keyof LifeEvents & string>(event: K, value: LifeEvents[K]): void {
    this.#events.emit(event, value, () => this.#i.log('listener.threw', { name: 'life' }));
  }

  close(): void {
    this.#closed = true;
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = null;
    this.#events.clear();
  }

  // ---- reading ----------------------------------------------------------------------------------

  /** A message row with its extras (reply, edited, deleted, timer, reactions). */
  decorate(row: MessageRow): StoredMessage {
    const s = this.#i.store;
    const meta = s.getMessageMeta(row.id);
    const reactions = s.listReactions(row.id);
    const out: { -readonly [K in keyof StoredMessage]: StoredMessage[K] } = { ...row };
    if (meta) {
      if (meta.replyTo) out.replyTo = meta.replyTo;
      if (meta.quote !== null && meta.replyTo) out.quote = meta.quote;
      if (meta.edited) out.edited = true;
      if (meta.deleted) out.deleted = true;
      if (meta.timerMs > 0) {
        out.timerMs = meta.timerMs;
        out.expiresAt = meta.expiresAt;
      }
    }
    if (reactions.length > 0) out.reactions = reactions.map((r) => ({ senderId: r.senderId, emoji: r.emoji }));
    return out;
  }

  /** The chat's disappearing timer in ms (0 = off). */
  timer(contactId: string): number {
    const v = Number(this.#i.store.getState(TIMER_STATE_PREFIX + contactId) ?? '0');
    return Number.isInteger(v) && v > 0 && v <= MAX_TIMER_MS ? v : 0;
  }

  isBlocked(accountId: string): boolean {
    return this.#i.store.getBlock(accountId) !== undefined;
  }

  blocked(): BlockedContact[] {
    this.#i.keys();
    return this.#i.store.listBlocks().map((b) => ({ contactId: b.contactId, at: b.at, reported: b.reported }));
  }

  requests(): MessageRequest[] {
    this.#i.keys();
    return this.#i.store.listRequests().map((r) => this.#requestOf(r));
  }

  /** The messages held in a request (the UI shows them before the user decides). */
  requestMessages(id: string): StoredMessage[] {
    this.#i.keys();
    this.#requestRow(id);
    return this.#i.store.listMessages(id).map((m) => this.decorate(m));
  }

  #requestOf(r: RequestRow): MessageRequest {
    return {
      id: r.id,
      pigeonId: formatPigeonId(fromHex(r.id)),
      name: r.name,
      introduced: r.deliveryToken !== null && r.relayUrl !== null,
      messages: this.#i.store.listMessages(r.id).length,
      firstAt: r.firstAt,
      lastAt: r.lastAt,
    };
  }

  #requestRow(id: string): RequestRow {
    const row = this.#i.store.getRequest(String(id).toLowerCase());
    if (!row) throw new ClientError('BAD_ARGUMENT', 'no such message request');
    return row;
  }

  // ---- sending ----------------------------------------------------------------------------------

  #contact(contactId: string): ContactRow {
    const row = this.#i.store.getContact(contactId);
    if (!row) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    return row;
  }

  #message(messageId: string): MessageRow {
    const m = typeof messageId === 'string' ? this.#i.store.getMessage(messageId.toLowerCase()) : undefined;
    if (!m || !this.#i.store.getContact(m.contactId)) throw new ClientError('UNKNOWN_MESSAGE', 'no such message');
    return m;
  }

  #refuseIfKeyChanged(contactId: string): void {
    if (this.#host.keyChangePending(contactId)) throw new ClientError('IDENTITY_CHANGED', "this contact's keys changed; acknowledge the change before sending");
  }

  #content(payload: LifePayload, id = this.#i.crypto.randomBytes(CONTENT_ID_BYTES), sentAt = this.#i.now()): Content {
    return { type: 'life', id, sentAt, payload: encodeLifePayload(payload) };
  }

  /**
   * The content core send() seals for a text: a plain text while the chat has no timer (older
   * clients read it), else a `life` text carrying the timer. `meta` is stored with the message.
   */
  outgoingText(contactId: string, id: Uint8Array, sentAt: number, text: string): { content: Content; commit: () => void } {
    const timerMs = this.timer(contactId);
    if (timerMs === 0) return { content: { type: 'text', id, sentAt, text }, commit: () => undefined };
    return {
      content: this.#content({ kind: 'text', text, replyTo: null, quote: '', timerMs }, id, sentAt),
      commit: () => this.#putMeta({ id: toHex(id), contactId, replyTo: null, quote: null, timerMs, expiresAt: sentAt + timerMs }),
    };
  }

  #putMeta(over: Partial<MessageMetaRow> & { id: string; contactId: string }): void {
    const prev = this.#i.store.getMessageMeta(over.id);
    this.#i.store.putMessageMeta({ replyTo: null, quote: null, edited: false, deleted: false, timerMs: 0, expiresAt: null, ...prev, ...over });
    if (over.expiresAt) this.#armSweeper();
  }

  /** Sends a text that quotes `messageId` (a message of the same chat). Emits nothing: the caller gets the message. */
  async reply(messageId: string, text: string): Promise<StoredMessage> {
    this.#i.keys();
    checkText(text);
    const target = this.#message(messageId);
    const contact = this.#contact(target.contactId);
    this.#refuseIfKeyChanged(contact.id);
    return this.#i.serial(async () => {
      const id = this.#i.crypto.randomBytes(CONTENT_ID_BYTES);
      const sentAt = this.#i.now();
      const timerMs = this.timer(contact.id);
      const quote = quoteOf(target.text);
      const content = this.#content({ kind: 'text', text, replyTo: fromHex(target.id), quote, timerMs }, id, sentAt);
      const message: MessageRow = { id: toHex(id), contactId: contact.id, direction: 'out', text, sentAt, receivedAt: null, state: 'queued', read: true };
      const out = await this.#i.sendContent(await this.#host.targetsFor(contact.id), content, message.id, () => {
        this.#i.store.insertMessage(message);
        this.#putMeta({ id: message.id, contactId: contact.id, replyTo: target.id, quote, timerMs, expiresAt: timerMs > 0 ? sentAt + timerMs : null });
      });
      if (out.envelopes === 0) this.#i.log('life.reply_unreachable');
      await this.syncOwn(contact.id, content);
      return this.decorate(message);
    });
  }

  /** Sets (emoji) or removes (null) our reaction on a message of a chat. */
  async react(messageId: string, emoji: string | null): Promise<StoredMessage> {
    const k = this.#i.keys();
    if (emoji !== null) checkEmoji(emoji);
    const m = this.#message(messageId);
    if (this.#i.store.getMessageMeta(m.id)?.deleted) throw new ClientError('UNKNOWN_MESSAGE', 'the message was deleted');
    this.#refuseIfKeyChanged(m.contactId);
    const me = k.profile.accountId;
    return this.#i.serial(async () => {
      const sentAt = this.#i.now();
      const content = this.#content({ kind: 'reaction', target: fromHex(m.id), emoji: emoji ?? '' }, undefined, sentAt);
      await this.#i.sendContent(await this.#host.targetsFor(m.contactId), content, null, () => {
        if (emoji === null) this.#i.store.deleteReaction(m.id, me);
        else this.#i.store.putReaction({ messageId: m.id, senderId: me, emoji, at: sentAt });
      });
      await this.syncOwn(m.contactId, content);
      this.#emit('update', { kind: 'reaction', contactId: m.contactId, messageId: m.id, by: me, timerMs: null });
      return this.decorate(this.#i.store.getMessage(m.id) ?? m);
    });
  }

  /** Replaces the text of one of our own messages (on every device of the chat). */
  async edit(messageId: string, text: string): Promise<StoredMessage> {
    const k = this.#i.keys();
    checkText(text);
    const m = this.#message(messageId);
    if (m.direction !== 'out') throw new ClientError('BAD_ARGUMENT', 'only the author can edit a message');
    if (this.#i.store.getMessageMeta(m.id)?.deleted) throw new ClientError('UNKNOWN_MESSAGE', 'the message was deleted');
    this.#refuseIfKeyChanged(m.contactId);
    return this.#i.serial(async () => {
      const content = this.#content({ kind: 'edit', target: fromHex(m.id), text });
      await this.#i.sendContent(await this.#host.targetsFor(m.contactId), content, null, () => {
        this.#i.store.setMessageText(m.id, text);
        this.#putMeta({ id: m.id, contactId: m.contactId, edited: true });
      });
      await this.syncOwn(m.contactId, content);
      this.#emit('update', { kind: 'edited', contactId: m.contactId, messageId: m.id, by: k.profile.accountId, timerMs: null });
      return this.decorate(this.#i.store.getMessage(m.id)!);
    });
  }

  /** Deletes one of our messages for everyone, within DELETE_WINDOW_MS of sending: a tombstone stays. */
  async deleteForEveryone(messageId: string): Promise<StoredMessage> {
    const k = this.#i.keys();
    const m = this.#message(messageId);
    if (m.direction !== 'out') throw new ClientError('BAD_ARGUMENT', 'only the author can delete a message for everyone');
    if (this.#i.now() - m.sentAt > DELETE_WINDOW_MS) throw new ClientError('BAD_ARGUMENT', 'the message is too old to delete for everyone');
    return this.#i.serial(async () => {
      const content = this.#content({ kind: 'delete', target: fromHex(m.id) });
      await this.#i.sendContent(await this.#host.targetsFor(m.contactId), content, null, () => this.#tombstone(m));
      await this.syncOwn(m.contactId, content);
      this.#emit('update', { kind: 'deleted', contactId: m.contactId, messageId: m.id, by: k.profile.accountId, timerMs: null });
      return this.decorate(this.#i.store.getMessage(m.id)!);
    });
  }

  /** Inside a transaction. */
  #tombstone(m: MessageRow): void {
    const s = this.#i.store;
    s.setMessageText(m.id, '');
    for (const r of s.listReactions(m.id)) s.deleteReaction(m.id, r.senderId);
    s.deleteState(ATTACHMENT_STATE_PREFIX + m.id);
    this.#putMeta({ id: m.id, contactId: m.contactId, deleted: true, replyTo: null, quote: null });
  }

  /** Sets the chat's disappearing timer for both sides (ms; 0 = off). */
  async setTimer(contactId: string, timerMs: number): Promise<number> {
    const k = this.#i.keys();
    if (!Number.isInteger(timerMs) || timerMs < 0 || timerMs > MAX_TIMER_MS || (timerMs > 0 && timerMs < MIN_TIMER_MS)) {
      throw new ClientError('BAD_ARGUMENT', `timer must be 0 (off) or between ${MIN_TIMER_MS} and ${MAX_TIMER_MS} ms`);
    }
    const contact = this.#contact(contactId);
    this.#refuseIfKeyChanged(contact.id);
    return this.#i.serial(async () => {
      const content = this.#content({ kind: 'timer', timerMs });
      await this.#i.sendContent(await this.#host.targetsFor(contact.id), content, null, () => this.#setTimerState(contact.id, timerMs));
      await this.syncOwn(contact.id, content);
      this.#emit('update', { kind: 'timer', contactId: contact.id, messageId: null, by: k.profile.accountId, timerMs });
      return timerMs;
    });
  }

  /**
   * Lock-free (inside serial): tells our other devices what we did in chat `contactId` (kind
   * 'sync'), so edits, deletes, reactions, timers and timed texts look the same on all of them.
   */
  async syncOwn(contactId: string, content: Content): Promise<void> {
    if (content.type !== 'life') return;
    try {
      const targets = await this.#host.ownSyncTargets();
      if (targets.length === 0) return;
      const payload: LifePayload = { kind: 'sync', to: fromHex(contactId), id: content.id, sentAt: content.sentAt, inner: content.payload };
      await this.#i.sendContent(targets, this.#content(payload), null);
    } catch (err) {
      this.#i.log('life.sync_failed', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
    }
  }

  #setTimerState(contactId: string, timerMs: number): void {
    this.#i.store.setState(TIMER_STATE_PREFIX + contactId, String(timerMs));
  }

  /**
   * Tells the contact we are (not) typing. Not stored, not receipted; 'on' goes out at most every
   * TYPING_MIN_INTERVAL_MS per contact, 'off' only after an 'on'. Resolves false when nothing was sent.
   */
  async typing(contactId: string, on: boolean): Promise<boolean> {
    this.#i.keys();
    const contact = this.#contact(contactId);
    if (this.#host.keyChangePending(contact.id)) return false;
    const now = this.#i.now();
    const last = this.#typingSent.get(contact.id);
    if (on && last !== undefined && now - last < TYPING_MIN_INTERVAL_MS) return false;
    if (!on && last === undefined) return false;
    if (on) this.#typingSent.set(contact.id, now);
    else this.#typingSent.delete(contact.id);
    return this.#i.serial(async () => {
      const out = await this.#i.sendContent(await this.#host.targetsFor(contact.id), this.#content({ kind: 'typing', on }), null);
      return out.envelopes > 0;
    });
  }

  /** Text sending marks typing over (the recipient clears it on the message). */
  noteSent(contactId: string): void {
    this.#typingSent.delete(contactId);
  }

  // ---- read + disappearing ----------------------------------------------------------------------

  /**
   * Incoming messages' timers start when they are read (Signal's rule): called by markRead.
   * Must run inside the markRead transaction or right after it.
   */
  startTimers(ids: readonly string[]): void {
    const now = this.#i.now();
    this.#i.store.transaction(() => {
      for (const id of ids) {
        const meta = this.#i.store.getMessageMeta(id);
        if (meta && meta.timerMs > 0 && meta.expiresAt === null) this.#putMeta({ id, contactId: meta.contactId, expiresAt: now + meta.timerMs });
      }
    });
  }

  /** Deletes every expired message (with its reactions and attachment reference); re-arms the timer. */
  sweep(): number {
    if (this.#closed) return 0;
    const now = this.#i.now();
    const expired = this.#i.store.listExpired(now, SWEEP_BATCH);
    this.#i.store.transaction(() => {
      for (const m of expired) {
        this.#i.store.deleteMessage(m.id);
        this.#i.store.deleteState(ATTACHMENT_STATE_PREFIX + m.id);
      }
    });
    let me = '';
    try {
      me = this.#i.keys().profile.accountId;
    } catch {
      // closed: events are cleared anyway
    }
    for (const m of expired) this.#emit('update', { kind: 'expired', contactId: m.contactId, messageId: m.id, by: me, timerMs: null });
    if (expired.length > 0) this.#i.log('life.expired', { count: expired.length });
    this.#armSweeper(expired.length === SWEEP_BATCH ? 0 : undefined);
    return expired.length;
  }

  /** Schedules the next sweep at the soonest expiry (timers are process-local: each device sweeps its own store). */
  #armSweeper(delay?: number): void {
    if (this.#closed) return;
    const next = this.#i.store.nextExpiry();
    if (next === undefined && delay === undefined) return;
    const wait = delay ?? Math.min(MAX_SWEEP_DELAY_MS, Math.max(0, next! - this.#i.now()));
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = null;
      this.sweep();
    }, wait);
  }

  /** On load: sweep what expired while the app was closed, then arm the timer. */
  start(): void {
    this.sweep();
  }

  // ---- blocking ---------------------------------------------------------------------------------

  /**
   * Blocks an account: its mail is dropped on receipt (acked, not stored, no receipts), and our
   * delivery token, which it holds, is replaced at the relay so the relay refuses its sends. The
   * new token goes to every other contact inside encrypted content (kind 'token'), so they keep
   * working; a message they sealed before it arrived is refused once (docs/message-life.md).
   */
  async block(contactId: string, options: { report?: boolean; note?: string } = {}): Promise<BlockResult> {
    this.#i.keys();
    const id = String(contactId).toLowerCase();
    if (!this.#i.store.getContact(id) && !this.#i.store.getRequest(id) && !/^[0-9a-f]{32}$/.test(id)) throw new ClientError('UNKNOWN_CONTACT', 'no such contact');
    const note = options.note ?? '';
    if (utf8.encode(note).length > MAX_REPORT_NOTE_BYTES) throw new ClientError('BAD_ARGUMENT', `note is longer than ${MAX_REPORT_NOTE_BYTES} bytes`);
    const prev = this.#i.store.getBlock(id);
    this.#i.store.transaction(() => {
      this.#i.store.putBlock({ contactId: id, at: prev?.at ?? this.#i.now(), reported: (prev?.reported ?? false) || options.report === true, note: note || (prev?.note ?? '') });
      this.#writeInviteTokens(withBlockedContact(this.#readInviteTokens(), id, this.#i.now()));
    });
    this.#typingSent.delete(id);
    this.#i.log('life.blocked', { reported: options.report === true });
    const result = await this.#i.serial(() => this.#rotateToken());
    await this.syncInviteTokens();
    return result;
  }

  /** Local report (there is no server-side moderation to send it to) + block. */
  report(contactId: string, note = ''): Promise<BlockResult> {
    return this.block(contactId, { report: true, note });
  }

  /**
   * Lets the account's mail through again. Its sends still fail until it learns our current token:
   * we send it (kind 'token') if it is a contact.
   */
  async unblock(contactId: string): Promise<void> {
    this.#i.keys();
    const id = String(contactId).toLowerCase();
    if (!this.#i.store.getBlock(id)) return;
    this.#i.store.transaction(() => this.#i.store.deleteBlock(id));
    if (!this.#i.store.getContact(id)) return;
    await this.#i.serial(() => this.shareOwnTokenWith(id));
  }

  /**
   * Replaces our delivery token (runs in serial). The new token is remembered before the relay is
   * asked, so a crash or a lost connection in between is finished by `resumeRotation`.
   */
  async #rotateToken(): Promise<BlockResult> {
    const s = this.#i.store;
    let pending = s.getState(PENDING_TOKEN_KEY);
    if (!pending) {
      pending = toHex(this.#i.crypto.randomBytes(DELIVERY_TOKEN_BYTES));
      s.transaction(() => s.setState(PENDING_TOKEN_KEY, pending!));
    }
    const next = fromHex(pending);
    const old = this.#host.ownToken();
    try {
      await this.#host.setDeliveryTokens([next], [old]);
    } catch (err) {
      this.#i.log('life.token_rotation_deferred', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
      return { tokenRotated: false, tokenSharedWith: 0 };
    }
    const targets = s.listContacts().filter((c) => !s.getBlock(c.id)).map((c) => ({ contactId: c.id }));
    const out = await this.#i.sendContent(targets, this.#content({ kind: 'token', deliveryToken: next }), null, () => {
      this.#host.setOwnToken(next);
      s.deleteState(PENDING_TOKEN_KEY);
    });
    this.#i.log('life.token_rotated', { contacts: targets.length });
    return { tokenRotated: true, tokenSharedWith: targets.length - out.unreachable.length };
  }

  /** After (re)connecting: finish a rotation the relay did not confirm, and bring the invite tokens up to date. */
  async resumeRotation(): Promise<void> {
    if (this.#closed) return;
    if (this.#i.store.getState(PENDING_TOKEN_KEY)) await this.#i.serial(() => this.#rotateToken());
    await this.syncInviteTokens();
  }

  // ---- invite tokens (invite-tokens.ts) -----------------------------------------------------------

  #readInviteTokens(): InviteToken[] {
    return parseInviteTokens(this.#i.store.getState(INVITE_TOKENS_KEY));
  }

  /** Inside the caller's transaction. */
  #writeInviteTokens(list: readonly InviteToken[]): void {
    if (list.length === 0) this.#i.store.deleteState(INVITE_TOKENS_KEY);
    else this.#i.store.setState(INVITE_TOKENS_KEY, serializeInviteTokens(list));
  }

  /**
   * A delivery token for a new invite (registered at the relay by syncInviteTokens; the caller
   * waits for that before handing the link out). Inside the caller's transaction.
   */
  issueInviteToken(secretHex: string): Uint8Array {
    const token = this.#i.crypto.randomBytes(DELIVERY_TOKEN_BYTES);
    this.#writeInviteTokens(withNewToken(this.#readInviteTokens(), toHex(token), secretHex, this.#i.now()));
    return token;
  }

  /** Whether the relay confirmed an invite token (so a link carrying it works). */
  inviteTokenRegistered(token: Uint8Array): boolean {
    const hex = toHex(token);
    return this.#readInviteTokens().some((t) => t.token === hex && t.registered);
  }

  /** Forgets an invite token the relay never confirmed (its link was made with our account token instead). */
  dropInviteToken(token: Uint8Array): void {
    const hex = toHex(token);
    const list = this.#readInviteTokens();
    const kept = list.filter((t) => t.token !== hex || t.registered);
    if (kept.length !== list.length) this.#i.store.transaction(() => this.#writeInviteTokens(kept));
  }

  /** An introduction used invite `secretHex`: called inside the receive transaction. */
  inviteUsed(secretHex: string, contactId: string): void {
    this.#writeInviteTokens(withUsedInvite(this.#readInviteTokens(), secretHex, contactId, this.#i.now()));
  }

  /**
   * Sends a contact our current account token (kind 'token'): after an unblock, and to a contact
   * that came through an invite, which holds that invite's token until it retires. Runs in the
   * serial queue.
   */
  async shareOwnTokenWith(contactId: string): Promise<void> {
    await this.#i.sendContent(await this.#host.targetsFor(contactId), this.#content({ kind: 'token', deliveryToken: this.#host.ownToken() }), null);
  }

  #inviteSync: Promise<void> | null = null;
  #inviteSyncAgain = false;

  /**
   * Tells the relay about new invite tokens and retired ones (one set_delivery_tokens). Never
   * throws: offline or refused, it is tried again on the next connection. Concurrent calls share
   * one run (and one more after it, for changes made meanwhile).
   */
  syncInviteTokens(): Promise<void> {
    if (this.#inviteSync) {
      this.#inviteSyncAgain = true;
      return this.#inviteSync;
    }
    const run = async (): Promise<void> => {
      do {
        this.#inviteSyncAgain = false;
        try {
          await this.#syncInviteTokensOnce();
        } catch (err) {
          // A store closed under us, say: the next connection's sync starts from the stored list.
          this.#i.log('life.invite_tokens_failed', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
          return;
        }
      } while (this.#inviteSyncAgain && !this.#closed);
    };
    this.#inviteSync = run().finally(() => (this.#inviteSync = null));
    return this.#inviteSync;
  }

  async #syncInviteTokensOnce(): Promise<void> {
    const { add, remove, forget } = dueChanges(this.#readInviteTokens(), this.#i.now());
    if (add.length > 0 || remove.length > 0) {
      try {
        await this.#host.setDeliveryTokens(
          add.map((t) => fromHex(t.token)),
          remove.map((t) => fromHex(t.token)),
        );
      } catch (err) {
        this.#i.log('life.invite_tokens_deferred', { code: (err as { code?: string }).code ?? 'UNKNOWN' });
        return;
      }
    } else if (forget.length === 0) {
      return;
    }
    const tokens = (list: InviteToken[]) => new Set(list.map((t) => t.token));
    // Read again: an invite may have been issued or used while the relay answered.
    const next = afterSync(this.#readInviteTokens(), tokens(add), tokens(remove), tokens(forget));
    this.#i.store.transaction(() => this.#writeInviteTokens(next));
  }

  // ---- requests ---------------------------------------------------------------------------------

  /** What a request holds: introductions and texts (plain or `life` texts). */
  holdable(content: Content): boolean {
    if (content.type === 'introduction' || content.type === 'text') return true;
    if (content.type !== 'life') return false;
    try {
      return decodeLifePayload(content.payload).kind === 'text';
    } catch {
      return false;
    }
  }

  /**
   * Called by the core inside the receive transaction for mail from an account that is not a
   * contact (and not handled by a feature module): holds texts and introductions apart. Returns
   * what to emit after the commit, or null when the content is not something a request holds.
   */
  holdRequest(input: { senderId: string; accountKey: Uint8Array; content: Content; now: number }): (() => void) | null {
    const { senderId, content, now } = input;
    const s = this.#i.store;
    const prev = s.getRequest(senderId);
    let row: RequestRow = prev ?? { id: senderId, accountKey: input.accountKey, name: '', relayUrl: null, deliveryToken: null, firstAt: now, lastAt: now };
    const id = toHex(content.id);
    if (content.type === 'introduction') {
      const name = content.displayName.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_BYTES);
      row = { ...row, name: name || 'unknown', relayUrl: content.relayUrl, deliveryToken: content.deliveryToken, lastAt: now };
    } else if (content.type === 'text') {
      s.insertMessage({ id, contactId: senderId, direction: 'in', text: content.text, sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false });
      row = { ...row, lastAt: now };
    } else if (content.type === 'life') {
      let p: LifePayload;
      try {
        p = decodeLifePayload(content.payload);
      } catch {
        return null;
      }
      if (p.kind !== 'text') return null;
      s.insertMessage({ id, contactId: senderId, direction: 'in', text: p.text, sentAt: content.sentAt, receivedAt: now, state: 'delivered', read: false });
      if (p.timerMs > 0) this.#putMeta({ id, contactId: senderId, timerMs: p.timerMs });
      row = { ...row, lastAt: now };
    } else {
      return null;
    }
    s.putRequest(row);
    const final = row;
    return () => this.#emit('request', this.#requestOf(final));
  }

  /** The request becomes a contact (needs its introduction: name, relay, token); its messages are in the chat. */
  async acceptRequest(id: string, options: { name?: string } = {}): Promise<ContactRow> {
    this.#i.keys();
    const r = this.#requestRow(id);
    if (!r.deliveryToken || !r.relayUrl) throw new ClientError('BAD_ARGUMENT', 'the sender has not introduced itself yet; it cannot be answered');
    const name = (options.name ?? r.name).trim() || 'contact';
    if (utf8.encode(name).length > MAX_NAME_BYTES) throw new ClientError('BAD_ARGUMENT', `contact name is longer than ${MAX_NAME_BYTES} bytes`);
    const row: ContactRow = { id: r.id, name, accountKey: r.accountKey, relayUrl: r.relayUrl, deliveryToken: r.deliveryToken, verified: false, addedAt: this.#i.now() };
    this.#i.store.transaction(() => {
      this.#i.store.putContact(row);
      this.#i.store.deleteRequest(r.id);
      this.#i.store.deleteBlock(r.id);
    });
    await this.#host.contactAdded(row);
    return row;
  }

  /** Drops the request and its messages; `block` also blocks the sender. */
  async rejectRequest(id: string, options: { block?: boolean } = {}): Promise<void> {
    this.#i.keys();
    const r = this.#requestRow(id);
    this.#i.store.transaction(() => {
      for (const m of this.#i.store.listMessages(r.id)) this.#i.store.deleteMessage(m.id);
      this.#i.store.deleteRequest(r.id);
      if (options.block) this.#i.store.putBlock({ contactId: r.id, at: this.#i.now(), reported: false, note: '' });
    });
    // A stranger never had our token from us; rotating it for a request would cost every contact a resend.
  }

  // ---- receiving --------------------------------------------------------------------------------

  /** `sync` from one of our own other devices: apply what we did there, as ours. */
  #applySynced(input: ExtensionInput): ExtensionResult {
    const ignore: ExtensionResult = { commit: () => undefined };
    if (input.content.type !== 'life') return ignore;
    let outer: LifePayload;
    let p: LifePayload;
    try {
      outer = decodeLifePayload(input.content.payload);
      if (outer.kind !== 'sync') return ignore;
      p = decodeLifePayload(outer.inner);
    } catch {
      return ignore;
    }
    const s = this.#i.store;
    const to = toHex(outer.to);
    if (!s.getContact(to)) return ignore;
    const me = input.senderId;
    const sentAt = outer.sentAt;
    const ownMessage = (raw: Uint8Array): MessageRow | undefined => {
      const m = s.getMessage(toHex(raw));
      return m && m.contactId === to ? m : undefined;
    };
    let after: (() => Promise<void>) | undefined;
    const update = (kind: MessageUpdate['kind'], messageId: string | null, timerMs: number | null = null) => {
      after = async () => this.#emit('update', { kind, contactId: to, messageId, by: me, timerMs });
    };
    const commit = (): void => {
      switch (p.kind) {
        case 'text': {
          const row: MessageRow = { id: toHex(outer.id), contactId: to, direction: 'out', text: p.text, sentAt, receivedAt: input.now, state: 'sent', read: true };
          if (s.getMessage(row.id)) return;
          s.insertMessage(row);
          const replyTo = p.replyTo ? toHex(p.replyTo) : null;
          if (replyTo !== null || p.timerMs > 0) {
            this.#putMeta({ id: row.id, contactId: to, replyTo, quote: replyTo ? quoteOf(p.quote) : null, timerMs: p.timerMs, expiresAt: p.timerMs > 0 ? sentAt + p.timerMs : null });
          }
          after = async () => this.#host.emitMessage(this.decorate(row));
          return;
        }
        case 'reaction': {
          const m = ownMessage(p.target);
          if (!m || s.getMessageMeta(m.id)?.deleted) return;
          if (p.emoji === '') s.deleteReaction(m.id, me);
          else s.putReaction({ messageId: m.id, senderId: me, emoji: p.emoji, at: sentAt });
          update('reaction', m.id);
          return;
        }
        case 'edit': {
          const m = ownMessage(p.target);
          if (!m || m.direction !== 'out' || s.getMessageMeta(m.id)?.deleted) return;
          s.setMessageText(m.id, p.text);
          this.#putMeta({ id: m.id, contactId: to, edited: true });
          update('edited', m.id);
          return;
        }
        case 'delete': {
          const m = ownMessage(p.target);
          if (!m || m.direction !== 'out') return;
          this.#tombstone(m);
          update('deleted', m.id);
          return;
        }
        case 'timer':
          this.#setTimerState(to, p.timerMs);
          update('timer', null, p.timerMs);
          return;
        default:
          return;
      }
    };
    return { commit, after: async () => after?.() };
  }

  /** The extension hook: `life` content from a contact. Runs in serial, before the receive commit. */
  readonly handle = async (input: ExtensionInput): Promise<ExtensionResult | null> => {
    const { content } = input;
    if (content.type !== 'life') return null;
    if (input.self) return this.#applySynced(input);
    if (!input.known) return null;
    let p: LifePayload;
    try {
      p = decodeLifePayload(content.payload);
    } catch {
      this.#i.log('life.bad_payload');
      return { commit: () => undefined };
    }
    const from = input.senderId;
    const s = this.#i.store;
    const id = toHex(content.id);
    let after: (() => Promise<void>) | undefined;
    const update = (kind: MessageUpdate['kind'], messageId: string | null, timerMs: number | null = null) => {
      after = async () => this.#emit('update', { kind, contactId: from, messageId, by: from, timerMs });
    };
    /** The target of an edit/delete/reaction: a message of this chat. */
    const target = (raw: Uint8Array): MessageRow | undefined => {
      const m = s.getMessage(toHex(raw));
      return m && m.contactId === from ? m : undefined;
    };
    const commit = (): void => {
      switch (p.kind) {
        case 'text': {
          const replyTo = p.replyTo ? toHex(p.replyTo) : null;
          const row: MessageRow = { id, contactId: from, direction: 'in', text: p.text, sentAt: content.sentAt, receivedAt: input.now, state: 'delivered', read: false };
          s.insertMessage(row);
          if (replyTo !== null || p.timerMs > 0) this.#putMeta({ id, contactId: from, replyTo, quote: replyTo ? quoteOf(p.quote) : null, timerMs: p.timerMs });
          after = async () => {
            this.#host.emitMessage(this.decorate(row));
            this.#emit('typing', { contactId: from, typing: false, at: input.now });
            if (this.#host.deliveryReceiptsOn()) {
              const receipt: Content = { type: 'receipt', id: this.#i.crypto.randomBytes(CONTENT_ID_BYTES), sentAt: this.#i.now(), ids: [content.id] };
              await this.#i.sendContent(await this.#host.targetsFor(from), receipt, null);
            }
          };
          return;
        }
        case 'reaction': {
          // A reaction may name either side's message of this chat.
          const m = target(p.target);
          if (!m || s.getMessageMeta(m.id)?.deleted) return;
          if (p.emoji === '') s.deleteReaction(m.id, from);
          else {
            try {
              checkEmoji(p.emoji);
            } catch {
              return;
            }
            s.putReaction({ messageId: m.id, senderId: from, emoji: p.emoji, at: content.sentAt });
          }
          update('reaction', m.id);
          return;
        }
        case 'edit': {
          const m = target(p.target);
          // Only the author edits: the message must be one they sent us.
          if (!m || m.direction !== 'in' || s.getMessageMeta(m.id)?.deleted) return;
          s.setMessageText(m.id, p.text);
          this.#putMeta({ id: m.id, contactId: from, edited: true });
          update('edited', m.id);
          return;
        }
        case 'delete': {
          const m = target(p.target);
          if (!m || m.direction !== 'in' || content.sentAt - m.sentAt > DELETE_WINDOW_MS) return;
          this.#tombstone(m);
          update('deleted', m.id);
          return;
        }
        case 'timer':
          this.#setTimerState(from, p.timerMs);
          update('timer', null, p.timerMs);
          return;
        case 'typing':
          // Ephemeral: a stale one (queued while offline) is ignored.
          if (input.now - content.sentAt > TYPING_TTL_MS) return;
          after = async () => this.#emit('typing', { contactId: from, typing: p.on, at: input.now });
          return;
        case 'token': {
          const c = s.getContact(from);
          if (!c || p.deliveryToken.length < 16) return;
          s.putContact({ ...c, deliveryToken: p.deliveryToken });
          // Envelopes still queued for them carry the old token: the relay would refuse them.
          for (const row of s.listOutbox()) if (row.contactId === from) s.putOutbox({ ...row, deliveryToken: p.deliveryToken });
          this.#i.log('life.contact_token_changed');
          return;
        }
      }
    };
    return { commit, after: async () => after?.() };
  };
}
