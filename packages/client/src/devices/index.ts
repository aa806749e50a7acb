/** Linked devices in the SDK (docs/protocol.md §13): `client.devices` is a DeviceManager. */
export { DeviceManager, LINK_WAIT_MS } from './manager.js';
export type { DeviceInfo, DeviceAdded, DeviceEvents, LinkSession, LinkedAccount } from './manager.js';
export {
  encodeDevicePayload,
  decodeDevicePayload,
  encodeLinkExtra,
  decodeLinkExtra,
  encodeLinkedAccount,
  linkedAccountKey,
  DEVICE_PAYLOAD_VERSION,
  LINK_EXTRA_VERSION,
  MAX_LINK_CONTACTS,
  MAX_SYNCED_CONTENT_BYTES,
  LINKED_ACCOUNT_MARKER,
} from './payload.js';
export type { DevicePayload, LinkExtra } from './payload.js';
export { PROVISIONING_PING_MS } from './provisioning-channel.js';
export type { ContactCard } from '../internals.js';
