/**
 * Versions, labels and limits of group messaging (docs/protocol.md §12). Every label is
 * distinct from the pairwise ones in ../constants.ts, so no group signature, hash or key can
 * ever be valid in another context.
 */
import { utf8 } from '@pigeon/crypto';
import { AES_TAG_BYTES, MAX_PADDED_BYTES, SIGNATURE_BYTES } from '../constants.js';

// ---- versions ----
export const GROUP_ROSTER_VERSION = 1;
export const GROUP_CHANGE_VERSION = 1;
export const GROUP_STATE_VERSION = 1;
export const SENDER_KEY_MESSAGE_VERSION = 1;
export const SENDER_KEY_DISTRIBUTION_VERSION = 1;
export const SENDER_KEY_STATE_VERSION = 1;
/** Identifies the implementation behind the GroupProtocol interface (MLS would be another). */
export const SENDER_KEYS_PROTOCOL_ID = 'pigeon-sender-keys-v1';

// ---- labels ----
export const LABEL_GROUP_ROSTER_HASH = utf8.encode('Pigeon_GroupRoster_v1\0');
export const LABEL_GROUP_CHANGE_SIGNATURE = utf8.encode('Pigeon_GroupChange_v1\0');
export const LABEL_GROUP_CHANGE_HASH = utf8.encode('Pigeon_GroupChangeHash_v1\0');
export const LABEL_SENDER_KEY_MESSAGE_KEYS = utf8.encode('Pigeon_SenderKey_v1_MessageKeys\0');
export const LABEL_SENDER_KEY_SIGNATURE = utf8.encode('Pigeon_SenderKey_v1_Signature\0');

// ---- sizes ----
export const GROUP_ID_BYTES = 32;
export const DISTRIBUTION_ID_BYTES = 16;
export const HASH_BYTES = 32;
/** version(1) || distributionId(16) || iteration(u32). */
export const SENDER_KEY_HEADER_BYTES = 1 + DISTRIBUTION_ID_BYTES + 4;

// ---- limits ----
/** Members per group (the product promise: groups up to 1,000 members). */
export const MAX_GROUP_MEMBERS = 1_000;
/** Devices listed per member (linked devices: at least 4 per account; headroom for more). */
export const MAX_GROUP_MEMBER_DEVICES = 10;
/** Group name, UTF-8 bytes. */
export const MAX_GROUP_NAME_BYTES = 256;
/** Operations in one group change (a change may add a whole list of people at once). */
export const MAX_GROUP_CHANGE_OPS = MAX_GROUP_MEMBERS;
/** Changes kept after the tip so that concurrent changes can still be resolved (§12.4). */
export const MAX_GROUP_REORG_DEPTH = 16;
/** Largest forward jump inside one sender key chain (libsignal sender keys: 25,000 future messages). */
export const MAX_GROUP_SKIP = 25_000;
/** Skipped message key seeds kept per received sender key, oldest evicted first (libsignal: 2,000). */
export const MAX_GROUP_SKIPPED_KEYS = 2_000;
/** Last usable iteration; needsRekey asks for a new key well before the u32 runs out. */
export const MAX_SENDER_KEY_ITERATION = 0xffffffff;
export const SENDER_KEY_REKEY_ITERATION = 0xf0000000;
export const MAX_GROUP_MESSAGE_BYTES = SENDER_KEY_HEADER_BYTES + MAX_PADDED_BYTES + AES_TAG_BYTES + SIGNATURE_BYTES;
/** A full roster: 1,000 members with 10 devices each fits well below this. */
export const MAX_GROUP_ROSTER_BYTES = 1 << 20;
export const MAX_GROUP_CHANGE_BYTES = 1 << 20;
