/** Named limits of message life (docs/message-life.md). Each one is covered by a test. */

/** A quote carried with a reply: the start of the quoted text, in characters. */
export const MAX_QUOTE_CHARS = 200;
/** One reaction (an emoji, possibly a ZWJ sequence), in UTF-8 bytes. */
export const MAX_REACTION_BYTES = 32;
/** Delete for everyone works this long after the message was sent (WhatsApp-like; Signal uses 24 h too). */
export const DELETE_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Longest disappearing-messages timer (4 weeks, as Signal). 0 = off. */
export const MAX_TIMER_MS = 28 * 24 * 60 * 60 * 1000;
/** Shortest timer a user may choose. */
export const MIN_TIMER_MS = 1_000;
/** At most one typing 'start' per contact this often (a keystroke stream must not become a message stream). */
export const TYPING_MIN_INTERVAL_MS = 3_000;
/** A typing indicator older than this is stale: ignored on receipt, and the UI stops showing it. */
export const TYPING_TTL_MS = 15_000;
/** Expired messages deleted in one sweep transaction (the rest follow in the next sweep). */
export const SWEEP_BATCH = 500;
/** Longest wait of the sweeper timer (setTimeout's range is 2^31-1 ms; we re-arm earlier). */
export const MAX_SWEEP_DELAY_MS = 24 * 60 * 60 * 1000;
/** A local report's note, in UTF-8 bytes. */
export const MAX_REPORT_NOTE_BYTES = 1024;
