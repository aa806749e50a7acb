/** Linked devices (docs/protocol.md §13): the signed device list and the provisioning (linking) protocol. */
export {
  DEVICE_LIST_VERSION,
  LINK_CODE_VERSION,
  LINK_CODE_PREFIX,
  PROVISIONING_ENVELOPE_VERSION,
  MAX_LISTED_DEVICES,
  MAX_REVOKED_DEVICES,
  MAX_DEVICE_LIST_BYTES,
  PROVISIONING_ID_BYTES,
  MAX_LINK_RELAY_URL_BYTES,
  MAX_PROVISIONING_EXTRA_BYTES,
  MAX_PROVISIONING_ENVELOPE_BYTES,
  PROVISIONING_CODE_DIGITS,
} from './constants.js';
export {
  type DeviceList,
  type DeviceListEntry,
  type RevokedDevice,
  type DeviceListUpdate,
  encodeDeviceList,
  decodeDeviceList,
  decodeVerifiedDeviceList,
  verifyDeviceList,
  createDeviceList,
  addDevice,
  revokeDevice,
  acceptDeviceList,
  deviceListIds,
  deviceListIncludes,
  isDeviceRevoked,
} from './device-list.js';
export { type LinkCode, encodeLinkCode, parseLinkCode } from './link-code.js';
export {
  type ProvisioningRequest,
  type CreatedProvisioning,
  type CreateProvisioningInput,
  type OpenedProvisioning,
  type OpenProvisioningOptions,
  startProvisioning,
  createProvisioningMessage,
  openProvisioningMessage,
} from './provisioning.js';
