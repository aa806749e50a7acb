/** Named limits and tunables of the client SDK. Each one is covered by a test. */

/** Longest text message, in UTF-8 bytes (MESSAGE_TOO_LONG above it). */
export const MAX_TEXT_BYTES = 16 * 1024;
/** Longest display name or contact alias, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 64;
/** Longest relay URL carried in links and introductions. */
export const MAX_URL_BYTES = 512;
/** Message ids in one delivery or read receipt (markRead splits larger batches). */
export const MAX_RECEIPT_IDS = 256;
/** Our delivery token length (the relay accepts 16..64 bytes). */
export const DELIVERY_TOKEN_BYTES = 32;
/** Invite secrets: long enough that they cannot be guessed, short enough for a QR code. */
export const INVITE_SECRET_BYTES = 16;
/** An unused invite stops working after this long. */
export const INVITE_TTL_MS = 30 * 24 * 60 * 60 * 1000;
/** Content message ids (text, receipts, introductions). */
export const CONTENT_ID_BYTES = 16;

/** One-time prekeys of each kind kept at the relay; we top up when fewer than PREKEY_LOW_WATER remain. */
export const PREKEY_BATCH = 100;
export const PREKEY_LOW_WATER = 25;
/**
 * The signed prekey and the ML-KEM last-resort prekey are replaced this often (Signal: 2 days), so a
 * stolen copy of one stops being useful for new sessions soon.
 */
export const SIGNED_PREKEY_ROTATE_MS = 2 * 24 * 60 * 60 * 1000;
/**
 * A replaced signed/last-resort prekey is kept this long: a session someone started from the old
 * bundle may still be sitting in our mailbox (the relay keeps mail 30 days) or in their outbox.
 */
export const RETIRED_PREKEY_KEEP_MS = 35 * 24 * 60 * 60 * 1000;
/** How often a long-running client re-checks rotation and the one-time prekey supply. */
export const PREKEY_CHECK_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** Connection tuning (the transport's defaults; tests shorten them). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
export const KEEPALIVE_INTERVAL_MS = 25_000;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 60_000;
