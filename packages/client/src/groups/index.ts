/** Groups in the SDK (docs/protocol.md §12): `client.groups` is a GroupManager. */
export { GroupManager, MAX_HELD_PER_GROUP, HELD_TTL_MS, MAX_INLINE_WELCOMES_PER_DEVICE } from './manager.js';
export {
  encodeWelcomeBundle,
  decodeWelcomeBundle,
  welcomeByBlob,
  welcomeThreshold,
  INLINE_WELCOME_MAX_CARDS,
  MAX_WELCOME_BUNDLE_BYTES,
  WELCOME_BUNDLE_VERSION,
} from './welcome-bundle.js';
export type { WelcomeBundle } from './welcome-bundle.js';
export { MemoryGroupStore } from './store.js';
export type { GroupStore, GroupRow, GroupMessageRow, HeldPayloadRow, GroupReceiptRow, GroupSentRow } from './store.js';
export type { Group, GroupMemberInfo, GroupMessage, GroupEvent, GroupEventKind, GroupReceipt } from './types.js';
export { audienceOf, audienceState, GROUP_STATE_RANK } from './receipts.js';
export { copyRefOf, MAX_RESENDS_PER_DEVICE } from './resend.js';
export { encodeGroupPayload, decodeGroupPayload, GROUP_PAYLOAD_VERSION, MAX_CARDS_PER_PAYLOAD, MAX_GROUP_STATE_BYTES, GROUP_INVITE_SECRET_BYTES } from './payload.js';
export type { GroupPayload, MemberCard } from './payload.js';
export { encodeGroupLink, decodeGroupLink, GROUP_LINK_PREFIX, GROUP_LINK_VERSION } from './invite-link.js';
export type { GroupInvite } from './invite-link.js';
