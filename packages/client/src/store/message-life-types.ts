/**
 * The message-life part of ClientStore (schema 5; docs/message-life.md): per-message extras
 * (reply, edit/delete marks, disappearing timer), reactions, blocked senders, and message
 * requests from unknown senders. Same rules as the rest of store/types.ts: synchronous, ids
 * are lowercase hex, every write happens inside `transaction(fn)`.
 */

/** Extras of one message (absent row = a plain message). */
export interface MessageMetaRow {
  /** The message id (hex content id). */
  readonly id: string;
  readonly contactId: string;
  /** The message this one replies to (hex), and the start of its text at the time. */
  readonly replyTo: string | null;
  readonly quote: string | null;
  /** The author changed the text (the UI shows "edited"). */
  readonly edited: boolean;
  /** Deleted for everyone: the message row stays as a tombstone with empty text. */
  readonly deleted: boolean;
  /** The disappearing timer the message carried (0 = none). */
  readonly timerMs: number;
  /** When the sweeper deletes it; null until the timer starts (incoming: when read). */
  readonly expiresAt: number | null;
}

export interface ReactionRow {
  readonly messageId: string;
  /** Account id (hex) of whoever reacted (ours for our own reaction). One reaction per sender. */
  readonly senderId: string;
  readonly emoji: string;
  readonly at: number;
}

/** A blocked account (a contact or an unknown sender whose request was rejected). */
export interface BlockRow {
  readonly contactId: string;
  readonly at: number;
  /** The user also reported it (recorded locally only: there is no server-side moderation). */
  readonly reported: boolean;
  readonly note: string;
}

/** Mail from an unknown sender, held apart until accepted or rejected. Its messages sit in `messages` under `id`. */
export interface RequestRow {
  /** The sender's account id (hex). */
  readonly id: string;
  readonly accountKey: Uint8Array;
  /** From the sender's introduction; empty / null until one arrived. */
  readonly name: string;
  readonly relayUrl: string | null;
  readonly deliveryToken: Uint8Array | null;
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface MessageLifeStore {
  getMessageMeta(id: string): MessageMetaRow | undefined;
  putMessageMeta(row: MessageMetaRow): void;
  /** Messages whose expiresAt <= now, soonest first, at most `limit`. */
  listExpired(now: number, limit: number): MessageMetaRow[];
  /** The soonest expiresAt of any message, undefined when none will expire. */
  nextExpiry(): number | undefined;
  /** Replaces a message's text (edits and tombstones). */
  setMessageText(id: string, text: string): void;
  /** Deletes a message with its extras and reactions (no-op when absent). */
  deleteMessage(id: string): void;

  /** Insert or replace the sender's reaction on a message. */
  putReaction(row: ReactionRow): void;
  deleteReaction(messageId: string, senderId: string): void;
  /** Oldest first. */
  listReactions(messageId: string): ReactionRow[];

  putBlock(row: BlockRow): void;
  getBlock(contactId: string): BlockRow | undefined;
  deleteBlock(contactId: string): void;
  /** Oldest first. */
  listBlocks(): BlockRow[];

  putRequest(row: RequestRow): void;
  getRequest(id: string): RequestRow | undefined;
  deleteRequest(id: string): void;
  /** Newest activity first. */
  listRequests(): RequestRow[];

  /** Removes a state-table key (an expired message's attachment reference). */
  deleteState(key: string): void;
}
