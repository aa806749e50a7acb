/**
 * Versions, labels and limits of linked devices (docs/protocol.md §13). Every label differs from
 * the pairwise and group ones, so a device-list signature or a provisioning key can never be
 * valid in another context.
 */
import { utf8 } from '@pigeon/crypto';
import { MAX_GROUP_MEMBER_DEVICES } from '../group/constants.js';

// ---- versions ----
export const DEVICE_LIST_VERSION = 1;
export const LINK_CODE_VERSION = 1;
export const PROVISIONING_ENVELOPE_VERSION = 1;
export const PROVISIONING_MESSAGE_VERSION = 1;
/**
 * Kind byte of a provisioning message. 1 = the existing device certifies the new device's own
 * keys (the account secret key stays where it is). 2 is reserved for a later "transfer the
 * account key" kind (Signal's model); v1 decoders refuse it with UNKNOWN_TYPE.
 */
export const PROVISIONING_KIND_CERTIFY = 1;

// ---- labels ----
export const LABEL_DEVICE_LIST = utf8.encode('Pigeon_DeviceList_v1\0');
export const LABEL_PROVISIONING_KEYS = utf8.encode('Pigeon_Provisioning_v1_Keys\0');
export const LABEL_PROVISIONING_CODE = utf8.encode('Pigeon_Provisioning_v1_Code\0');
export const LINK_CODE_PREFIX = 'pigeon://link/';

// ---- sizes and limits ----
/**
 * Devices in one signed list (the primary plus linked devices). WhatsApp allows a phone plus 4
 * companions; Pigeon allows 10 so that every listed device also fits a group roster
 * (MAX_GROUP_MEMBER_DEVICES) — one account, one set of devices everywhere.
 */
export const MAX_LISTED_DEVICES = MAX_GROUP_MEMBER_DEVICES;
/** Revoked device ids a list remembers; the oldest revocation is forgotten first. */
export const MAX_REVOKED_DEVICES = 100;
/** version + account key + counter + entries + revoked + signature, with room to spare. */
export const MAX_DEVICE_LIST_BYTES = 8 * 1024;
export const PROVISIONING_ID_BYTES = 16;
/** UTF-8 bytes of the relay URL inside a link code (a QR code must stay scannable). */
export const MAX_LINK_RELAY_URL_BYTES = 512;
/** Application payload the existing device may add (e.g. a contacts snapshot key or small snapshot). */
export const MAX_PROVISIONING_EXTRA_BYTES = 64 * 1024;
/** Largest sealed provisioning envelope (the relay's provisioning mailbox refuses anything larger). */
export const MAX_PROVISIONING_ENVELOPE_BYTES = 80 * 1024;
/** Digits of the confirmation code both screens show. */
export const PROVISIONING_CODE_DIGITS = 6;
