/**
 * @pigeon/client: the SDK, platform-neutral entry (no node:* imports). Node programs import the
 * same package and get index.node.ts, which adds PigeonClient.open() (SQLite + ws).
 */
export * from './types.js';
export * from './errors.js';
export * from './limits.js';
export { PigeonClient, MAX_SENDS_IN_FLIGHT, SEND_RETRY_MS, DELIVERY_RECEIPTS_KEY, READ_RECEIPTS_KEY, TRANSPORT_STATE_PREFIX } from './client.js';
export type { ClientDeps } from './client.js';
export type * from './store/types.js';
export { MIGRATIONS, SCHEMA_VERSION } from './store/sqlite-migrations.js';
export { encodeInviteLink, decodeInviteLink, INVITE_LINK_PREFIX, INVITE_VERSION, MAX_INVITE_LINK_CHARS, MAX_INVITE_ROUTES, MAX_INVITE_ROUTE_BYTES } from './invite-link.js';
export type { Invite } from './invite-link.js';
export { encodeContent, decodeContent, CONTENT_VERSION, MAX_FEATURE_PAYLOAD_BYTES } from './content.js';
export type { Content, TextContent, ReceiptContent, ReadReceiptContent, IntroductionContent, AttachmentContent, GroupContent, DeviceContent, LifeContent } from './content.js';
export { normalizeRelayUrl } from './relay-url.js';
export { RelayConnection } from './transport/relay-connection.js';
export type { ConnectionTuning, RelayConnectionOptions, RequestFrame, PushFrame } from './transport/relay-connection.js';
export type { SocketFactory, SocketHandlers, RelaySocket } from './transport/socket.js';
export { backoffDelay } from './transport/backoff.js';
export type { BackoffOptions } from './transport/backoff.js';
export * from './attachments/index.js';
export * from './groups/index.js';
export * from './devices/index.js';
export * from './message-life/index.js';
