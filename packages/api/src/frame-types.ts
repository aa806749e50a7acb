/**
 * Type bytes of the frames (docs/relay-api.md, "Frame types"). Client->relay types live in
 * 0x01..0x7f and relay->client types in 0x81..0xff, so a frame sent in the wrong direction is
 * recognised as such (UNEXPECTED_FRAME) instead of being confused with garbage (BAD_FRAME).
 * Values are append-only: never renumber.
 */
import type { ClientFrame, RelayFrame } from './frames.js';

export const CLIENT_FRAME_TYPES = {
  register: 0x01,
  auth: 0x02,
  upload_prekeys: 0x03,
  prekey_status: 0x04,
  fetch_bundles: 0x05,
  send: 0x06,
  ack: 0x07,
  set_delivery_tokens: 0x08,
  ping: 0x09,
  put_device_list: 0x0a,
  fetch_device_list: 0x0b,
  fetch_device_bundles: 0x0c,
  provision_open: 0x0d,
  provision_send: 0x0e,
} as const satisfies Record<ClientFrame['type'], number>;

export const RELAY_FRAME_TYPES = {
  challenge: 0x81,
  ok: 0x82,
  error: 0x83,
  bundles: 0x84,
  prekey_status_result: 0x85,
  deliver: 0x86,
  queue_empty: 0x87,
  pong: 0x88,
  device_list: 0x89,
  device_bundles: 0x8a,
  provision_message: 0x8b,
} as const satisfies Record<RelayFrame['type'], number>;

function invert<K extends string>(table: Record<K, number>): Map<number, K> {
  const out = new Map<number, K>();
  for (const key of Object.keys(table) as K[]) out.set(table[key], key);
  return out;
}

export const CLIENT_FRAME_BY_BYTE: ReadonlyMap<number, ClientFrame['type']> = invert(CLIENT_FRAME_TYPES);
export const RELAY_FRAME_BY_BYTE: ReadonlyMap<number, RelayFrame['type']> = invert(RELAY_FRAME_TYPES);
