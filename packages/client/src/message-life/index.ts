/** Message life: public surface (docs/message-life.md). */
export * from './types.js';
export * from './limits.js';
export { encodeLifePayload, decodeLifePayload } from './payload.js';
export type { LifePayload } from './payload.js';
export { MessageLife, TIMER_STATE_PREFIX, PENDING_TOKEN_KEY, quoteOf } from './manager.js';
