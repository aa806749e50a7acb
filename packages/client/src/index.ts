/**
 * @pigeon/client: the SDK, platform-neutral entry (no node:* imports). Node programs import the
 * same package and get index.node.ts, which adds PigeonClient.open() (SQLite + ws).
 */
export * from './types.js';
export * from './errors.js';
export * from './limits.js';
export { PigeonClient, MAX_SENDS_IN_FLIGHT, SEND_RETRY_MS } from './client.js';
export type { ClientDeps } from './client.js';
export type * from './store/types.js';
export { MIGRATIONS, SCHEMA_VERSION } from './store/sqlite-migrations.js';
export { encodeInviteLink, decodeInviteLink, INVITE_LINK_PREFIX, INVITE_VERSION, MAX_INVITE_LINK_CHARS } from './invite-link.js';
export type { Invite } from './invite-link.js';
export { encodeContent, decodeContent, CONTENT_VERSION } from './content.js';
export type { Content, TextContent, ReceiptContent, IntroductionContent } from './content.js';
export { normalizeRelayUrl } from './relay-url.js';
export { RelayConnection } from './transport/relay-connection.js';
export type { ConnectionTuning, RelayConnectionOptions, RequestFrame, PushFrame } from './transport/relay-connection.js';
export type { SocketFactory, SocketHandlers, RelaySocket } from './transport/socket.js';
export { backoffDelay } from './transport/backoff.js';
export type { BackoffOptions } from './transport/backoff.js';
