/**
 * Wire limits shared by the relay and the client (docs/relay-api.md, "Limits").
 * The codec enforces them on both encode and decode, so a peer can never make the
 * other side allocate more than these bounds.
 */
import { ED25519_SIGNATURE_BYTES, MLKEM1024_PUBLIC_KEY_BYTES, X25519_KEY_BYTES } from '@pigeon/crypto';
import {
  MAX_DEVICE_LIST_BYTES as PROTOCOL_MAX_DEVICE_LIST_BYTES,
  MAX_PROVISIONING_ENVELOPE_BYTES as PROTOCOL_MAX_PROVISIONING_ENVELOPE_BYTES,
} from '@pigeon/protocol';

/** Largest sealed envelope a `send` may carry (and a `deliver` may return). */
export const MAX_ENVELOPE_BYTES = 256 * 1024;
/** Headroom for the frame header and the other fields of the largest frame (`send`, `upload_prekeys`). */
export const FRAME_OVERHEAD_BYTES = 4 * 1024;
/** Largest WebSocket message either side accepts; the relay sets ws `maxPayload` to it. */
export const MAX_FRAME_BYTES = MAX_ENVELOPE_BYTES + FRAME_OVERHEAD_BYTES;

/** Both lists of one-time prekeys in one `upload_prekeys` frame are bounded by this. */
export const MAX_PREKEYS_PER_UPLOAD = 100;
/** Message ids in one `ack` frame. */
export const MAX_ACK_IDS = 500;
/** Tokens in each of the `add` and `remove` lists of one `set_delivery_tokens` frame. */
export const MAX_TOKENS_PER_REQUEST = 100;
/** Bounds of one delivery token. Shorter tokens would be guessable. */
export const MIN_DELIVERY_TOKEN_BYTES = 16;
export const MAX_DELIVERY_TOKEN_BYTES = 64;
/** Encoded DeviceCertificate (about 170 bytes today; room for a later version). */
export const MAX_CERTIFICATE_BYTES = 1024;
/** Encoded PreKeyBundle (certificate + X25519 prekeys + ML-KEM-1024 prekey, about 2 KiB). */
export const MAX_BUNDLE_BYTES = 8 * 1024;
/** Bundles in one `bundles` reply = devices per account the relay will ever hold. */
export const MAX_DEVICES_PER_ACCOUNT = 32;
/** Encoded signed DeviceList (protocol MAX_DEVICE_LIST_BYTES). */
export const MAX_DEVICE_LIST_BYTES = PROTOCOL_MAX_DEVICE_LIST_BYTES;
/** Sealed provisioning envelope (protocol MAX_PROVISIONING_ENVELOPE_BYTES); fits MAX_FRAME_BYTES. */
export const MAX_PROVISIONING_ENVELOPE_BYTES = PROTOCOL_MAX_PROVISIONING_ENVELOPE_BYTES;
/** UTF-8 bytes of the human-readable message of an `error` frame. */
export const MAX_ERROR_MESSAGE_BYTES = 256;

export const ID_BYTES = 16;
export const CHALLENGE_NONCE_BYTES = 32;
export const SIGNATURE_BYTES = ED25519_SIGNATURE_BYTES;
export const X25519_PREKEY_BYTES = X25519_KEY_BYTES;
export const KEM_PREKEY_BYTES = MLKEM1024_PUBLIC_KEY_BYTES;
