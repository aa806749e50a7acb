/** fast-check generators for every frame type (kept small so truncation sweeps stay fast). */
import fc from 'fast-check';
import { RELAY_ERROR_CODES } from '../src/errors.js';
import type { ClientFrame, RelayFrame } from '../src/frames.js';
import {
  CHALLENGE_NONCE_BYTES,
  ID_BYTES,
  KEM_PREKEY_BYTES,
  MAX_DELIVERY_TOKEN_BYTES,
  MIN_DELIVERY_TOKEN_BYTES,
  SIGNATURE_BYTES,
  X25519_PREKEY_BYTES,
} from '../src/limits.js';

// Plain objects (not null-prototype) so deepStrictEqual compares them with decoded frames.
const record = <T extends object>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const varBytes = (max: number) => fc.uint8Array({ maxLength: max });
const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.nat({ max: Number.MAX_SAFE_INTEGER });
const id16 = bytes(ID_BYTES);
const token = fc.uint8Array({ minLength: MIN_DELIVERY_TOKEN_BYTES, maxLength: MAX_DELIVERY_TOKEN_BYTES });
const anyToken = fc.uint8Array({ maxLength: MAX_DELIVERY_TOKEN_BYTES });
const sig = bytes(SIGNATURE_BYTES);
const preKey = record({ id: u32, publicKey: bytes(X25519_PREKEY_BYTES) });
const signedPreKey = record({ id: u32, publicKey: bytes(X25519_PREKEY_BYTES), signature: sig });
const kemPreKey = record({ id: u32, publicKey: bytes(KEM_PREKEY_BYTES), signature: sig });

export const clientFrames: Record<ClientFrame['type'], fc.Arbitrary<ClientFrame>> = {
  register: record({ type: fc.constant('register' as const), id: u32, certificate: varBytes(300), signature: sig }),
  auth: record({ type: fc.constant('auth' as const), id: u32, deviceId: id16, signature: sig }),
  upload_prekeys: record({
    type: fc.constant('upload_prekeys' as const),
    id: u32,
    signedPreKey: fc.option(signedPreKey, { nil: null }),
    kemLastResortPreKey: fc.option(kemPreKey, { nil: null }),
    oneTimePreKeys: fc.array(preKey, { maxLength: 5 }),
    kemOneTimePreKeys: fc.array(kemPreKey, { maxLength: 2 }),
  }),
  prekey_status: record({ type: fc.constant('prekey_status' as const), id: u32 }),
  fetch_bundles: record({ type: fc.constant('fetch_bundles' as const), id: u32, accountId: id16, deliveryToken: anyToken }),
  send: record({
    type: fc.constant('send' as const),
    id: u32,
    messageId: id16,
    recipientDeviceId: id16,
    deliveryToken: anyToken,
    envelope: varBytes(200),
  }),
  ack: record({ type: fc.constant('ack' as const), id: u32, messageIds: fc.array(id16, { maxLength: 8 }) }),
  set_delivery_tokens: record({
    type: fc.constant('set_delivery_tokens' as const),
    id: u32,
    add: fc.array(token, { maxLength: 4 }),
    remove: fc.array(anyToken, { maxLength: 4 }),
  }),
  ping: record({ type: fc.constant('ping' as const), id: u32 }),
  put_device_list: record({ type: fc.constant('put_device_list' as const), id: u32, deviceList: varBytes(300) }),
  fetch_device_list: record({ type: fc.constant('fetch_device_list' as const), id: u32, accountId: id16, deliveryToken: anyToken }),
  fetch_device_bundles: record({ type: fc.constant('fetch_device_bundles' as const), id: u32, accountId: id16, deliveryToken: anyToken }),
  provision_open: record({ type: fc.constant('provision_open' as const), id: u32, provisioningId: id16 }),
  provision_send: record({ type: fc.constant('provision_send' as const), id: u32, provisioningId: id16, envelope: varBytes(200) }),
};

export const relayFrames: Record<RelayFrame['type'], fc.Arbitrary<RelayFrame>> = {
  challenge: record({ type: fc.constant('challenge' as const), nonce: bytes(CHALLENGE_NONCE_BYTES), relayTime: u64 }),
  ok: record({ type: fc.constant('ok' as const), id: u32 }),
  error: record({
    type: fc.constant('error' as const),
    id: u32,
    code: fc.constantFrom(...RELAY_ERROR_CODES),
    message: fc.string({ maxLength: 60, unit: 'grapheme' }),
    retryAfterMs: u32,
  }),
  bundles: record({ type: fc.constant('bundles' as const), id: u32, bundles: fc.array(varBytes(300), { maxLength: 4 }) }),
  prekey_status_result: record({ type: fc.constant('prekey_status_result' as const), id: u32, oneTimePreKeys: u32, kemOneTimePreKeys: u32 }),
  deliver: record({ type: fc.constant('deliver' as const), messageId: id16, envelope: varBytes(200), receivedAt: u64 }),
  queue_empty: record({ type: fc.constant('queue_empty' as const) }),
  pong: record({ type: fc.constant('pong' as const), id: u32 }),
  device_list: record({ type: fc.constant('device_list' as const), id: u32, deviceList: varBytes(300) }),
  device_bundles: record({
    type: fc.constant('device_bundles' as const),
    id: u32,
    deviceList: varBytes(300),
    bundles: fc.array(varBytes(300), { maxLength: 4 }),
  }),
  provision_message: record({ type: fc.constant('provision_message' as const), provisioningId: id16, envelope: varBytes(200) }),
};

export const anyClientFrame = fc.oneof(...Object.values(clientFrames));
export const anyRelayFrame = fc.oneof(...Object.values(relayFrames));
