/**
 * Client <-> relay frames (docs/relay-api.md is the normative description).
 * Every WebSocket binary message is exactly one frame: [version u8][type u8][body].
 * Requests carry a client-chosen request id (u32) echoed by the relay's reply.
 */
import type { RelayErrorCode } from './errors.js';

export const API_VERSION = 1;

/** 16-byte identifiers: a device id is SHA-256(device signing key)[0..16], an account id SHA-256(account key)[0..16]. */
export type Id16 = Uint8Array;

export interface WirePreKey {
  readonly id: number;
  readonly publicKey: Uint8Array;
}
export interface WireSignedPreKey extends WirePreKey {
  readonly signature: Uint8Array;
}

// ---- client -> relay -------------------------------------------------------

/** First frame of a new device: proves possession of the device signing key over the challenge. */
export interface RegisterFrame {
  readonly type: 'register';
  readonly id: number;
  /** Encoded DeviceCertificate (protocol package), signed by the account key. */
  readonly certificate: Uint8Array;
  /** Ed25519 signature by the device signing key over authMessage(challenge nonce). */
  readonly signature: Uint8Array;
}

/** Authenticates an existing device on this connection. */
export interface AuthFrame {
  readonly type: 'auth';
  readonly id: number;
  readonly deviceId: Id16;
  readonly signature: Uint8Array;
}

/** Replaces the signed prekeys given and adds one-time prekeys. Requires auth. */
export interface UploadPreKeysFrame {
  readonly type: 'upload_prekeys';
  readonly id: number;
  readonly signedPreKey: WireSignedPreKey | null;
  /** ML-KEM-1024 last-resort prekey, signed by the device signing key. */
  readonly kemLastResortPreKey: WireSignedPreKey | null;
  readonly oneTimePreKeys: readonly WirePreKey[];
  readonly kemOneTimePreKeys: readonly WireSignedPreKey[];
}

/** How many one-time prekeys the relay still holds for this device. Requires auth. */
export interface PreKeyStatusFrame {
  readonly type: 'prekey_status';
  readonly id: number;
}

/** Fetches one bundle per device of an account; consumes one one-time prekey of each kind per device. */
export interface FetchBundlesFrame {
  readonly type: 'fetch_bundles';
  readonly id: number;
  readonly accountId: Id16;
  readonly deliveryToken: Uint8Array;
}

/** Sealed send. Allowed without auth (the relay must not learn the sender). */
export interface SendFrame {
  readonly type: 'send';
  readonly id: number;
  /** Random, chosen by the sender; the relay stores idempotently by (recipient, messageId). */
  readonly messageId: Id16;
  readonly recipientDeviceId: Id16;
  readonly deliveryToken: Uint8Array;
  readonly envelope: Uint8Array;
}

/**
 * An `ack` with this id is quiet: the relay sends no reply (docs/relay-api.md "Request ids").
 * Acks need no answer: an ack that is lost or fails only means the message is delivered again
 * and dropped by id, so a client saves a frame each way and a timer per ack.
 */
export const QUIET_ACK_ID = 0;

/** Deletes delivered messages from this device's mailbox. Requires auth. */
export interface AckFrame {
  readonly type: 'ack';
  /** QUIET_ACK_ID for no reply. */
  readonly id: number;
  readonly messageIds: readonly Id16[];
}

/** Adds/removes delivery tokens for the authenticated device's account. */
export interface SetDeliveryTokensFrame {
  readonly type: 'set_delivery_tokens';
  readonly id: number;
  readonly add: readonly Uint8Array[];
  readonly remove: readonly Uint8Array[];
}

export interface PingFrame {
  readonly type: 'ping';
  readonly id: number;
}

// ---- linked devices (docs/relay-api.md "Linked devices") ----

/** Publishes the account's signed device list (protocol DeviceList). Requires auth by a device of that account. */
export interface PutDeviceListFrame {
  readonly type: 'put_device_list';
  readonly id: number;
  readonly deviceList: Uint8Array;
}

/** The current signed device list of an account: a delivery token of it, or auth as one of its devices. */
export interface FetchDeviceListFrame {
  readonly type: 'fetch_device_list';
  readonly id: number;
  readonly accountId: Id16;
  readonly deliveryToken: Uint8Array;
}

/** As fetch_bundles, answered with `device_bundles`: bundles of listed devices only, plus the signed list. */
export interface FetchDeviceBundlesFrame {
  readonly type: 'fetch_device_bundles';
  readonly id: number;
  readonly accountId: Id16;
  readonly deliveryToken: Uint8Array;
}

/** New device: opens a provisioning mailbox (no auth); its one message is pushed as `provision_message`. */
export interface ProvisionOpenFrame {
  readonly type: 'provision_open';
  readonly id: number;
  readonly provisioningId: Id16;
}

/** Existing device: puts the sealed provisioning envelope into an open mailbox (no auth needed). */
export interface ProvisionSendFrame {
  readonly type: 'provision_send';
  readonly id: number;
  readonly provisioningId: Id16;
  readonly envelope: Uint8Array;
}

export type ClientFrame =
  | PutDeviceListFrame
  | FetchDeviceListFrame
  | FetchDeviceBundlesFrame
  | ProvisionOpenFrame
  | ProvisionSendFrame
  | RegisterFrame
  | AuthFrame
  | UploadPreKeysFrame
  | PreKeyStatusFrame
  | FetchBundlesFrame
  | SendFrame
  | AckFrame
  | SetDeliveryTokensFrame
  | PingFrame;

// ---- relay -> client -------------------------------------------------------

/** Sent by the relay as soon as the WebSocket opens. Single use. */
export interface ChallengeFrame {
  readonly type: 'challenge';
  readonly nonce: Uint8Array;
  readonly relayTime: number;
}

/** Generic success reply. */
export interface OkFrame {
  readonly type: 'ok';
  readonly id: number;
}

export interface ErrorFrame {
  readonly type: 'error';
  /** 0 when the error is not a reply to a request (e.g. an undecodable frame). */
  readonly id: number;
  readonly code: RelayErrorCode;
  readonly message: string;
  /** For RATE_LIMITED: when to try again. 0 otherwise. */
  readonly retryAfterMs: number;
}

export interface BundlesFrame {
  readonly type: 'bundles';
  readonly id: number;
  /** Encoded PreKeyBundle (protocol package), one per device of the account. */
  readonly bundles: readonly Uint8Array[];
}

export interface PreKeyStatusResultFrame {
  readonly type: 'prekey_status_result';
  readonly id: number;
  readonly oneTimePreKeys: number;
  readonly kemOneTimePreKeys: number;
}

/** A stored message for the authenticated device. Re-sent after reconnect until acked. */
export interface DeliverFrame {
  readonly type: 'deliver';
  readonly messageId: Id16;
  readonly envelope: Uint8Array;
  /** Relay receipt time, ms since the epoch. */
  readonly receivedAt: number;
}

/** The mailbox has been drained up to now (sent once after auth when the backlog is delivered). */
export interface QueueEmptyFrame {
  readonly type: 'queue_empty';
}

export interface PongFrame {
  readonly type: 'pong';
  readonly id: number;
}

/** Reply to fetch_device_list: the encoded signed DeviceList, empty when the account has none yet. */
export interface DeviceListFrame {
  readonly type: 'device_list';
  readonly id: number;
  readonly deviceList: Uint8Array;
}

/** Reply to fetch_device_bundles: bundles only of devices in `deviceList` (empty = no list published yet: all devices). */
export interface DeviceBundlesFrame {
  readonly type: 'device_bundles';
  readonly id: number;
  readonly deviceList: Uint8Array;
  readonly bundles: readonly Uint8Array[];
}

/** Pushed to the connection that opened the provisioning mailbox (at most once). */
export interface ProvisionMessageFrame {
  readonly type: 'provision_message';
  readonly provisioningId: Id16;
  readonly envelope: Uint8Array;
}

export type RelayFrame =
  | DeviceListFrame
  | DeviceBundlesFrame
  | ProvisionMessageFrame
  | ChallengeFrame
  | OkFrame
  | ErrorFrame
  | BundlesFrame
  | PreKeyStatusResultFrame
  | DeliverFrame
  | QueueEmptyFrame
  | PongFrame;
