/** Public types of message life (docs/message-life.md). */

/** Something changed about an existing message or chat ('update' event). */
export interface MessageUpdate {
  readonly kind: 'edited' | 'deleted' | 'reaction' | 'expired' | 'timer';
  readonly contactId: string;
  /** The message concerned (null for 'timer'). */
  readonly messageId: string | null;
  /** Account id (hex) of whoever made the change (ours for our own). */
  readonly by: string;
  /** The chat's timer after a 'timer' change (ms, 0 = off). */
  readonly timerMs: number | null;
}

/** 'typing' event: the contact started or stopped typing. Stale after TYPING_TTL_MS without a new start. */
export interface TypingEvent {
  readonly contactId: string;
  readonly typing: boolean;
  readonly at: number;
}

/** One reaction on a message. */
export interface Reaction {
  /** Account id (hex) of who reacted (our own account id for ours). */
  readonly senderId: string;
  readonly emoji: string;
}

/** Mail from an unknown sender, held apart ('request' event, `requests()`). */
export interface MessageRequest {
  /** The sender's account id (hex): accept/reject take it. */
  readonly id: string;
  readonly pigeonId: string;
  /** From the sender's introduction ('' until one arrived). */
  readonly name: string;
  /** An introduction (name, relay, delivery token) arrived: only then can the request be accepted. */
  readonly introduced: boolean;
  readonly messages: number;
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface BlockedContact {
  readonly contactId: string;
  readonly at: number;
  readonly reported: boolean;
}

/** What block() did: the local block always; the token rotation needs the relay. */
export interface BlockResult {
  /** Our delivery token was replaced at the relay (the blocked account's sends are refused there). */
  readonly tokenRotated: boolean;
  /** Contacts that were sent the new token. */
  readonly tokenSharedWith: number;
}
