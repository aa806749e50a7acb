/**
 * Linking a new device (docs/protocol.md §13.2). The account secret key never leaves the device
 * that holds it (WhatsApp's companion model, not Signal's copy of the identity key):
 *
 * 1. The new device generates its own device keys, an ephemeral X25519 key P and a provisioning
 *    id, opens a provisioning mailbox on the relay and shows the link code (QR) — public keys only.
 * 2. The existing device scans it, certifies the new device's keys with the account key, signs
 *    the next device list, publishes that list on the relay, and sends one sealed provisioning
 *    message to the mailbox: ephemeral-static X25519 to P, HKDF, AES-256-GCM with P, its own
 *    ephemeral key and the provisioning id in the AAD.
 * 3. The new device opens it, checks that the certificate names its own keys and that the list
 *    is signed by the same account key and lists it, then registers with the relay.
 *
 * Both screens show the account's Pigeon ID and a 6-digit confirmation code derived from the
 * account key and both ephemeral keys: anyone who saw the QR code (or a relay that learnt it) can
 * send *a* provisioning message, but not one that produces the code and Pigeon ID the user sees on
 * the existing device.
 */
import { concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend, KeyPair } from '@pigeon/crypto';
import { Reader, Writer } from '../codec/index.js';
import { AES_NONCE_BYTES, KEY_BYTES, MAX_CERTIFICATE_BYTES } from '../constants.js';
import { asProtocolError, expectVersion } from '../codec-helpers.js';
import { ProtocolError } from '../errors.js';
import {
  accountIdOf,
  certifyDevice,
  decodeDeviceCertificate,
  deviceIdOf,
  deviceKeysFromParts,
  encodeDeviceCertificate,
  formatPigeonId,
  verifyDeviceCertificate,
  type AccountKeys,
  type DeviceCertificate,
  type DeviceKeys,
} from '../identity.js';
import { protectKeyPair, redacted } from '../redact.js';
import {
  LABEL_PROVISIONING_CODE,
  LABEL_PROVISIONING_KEYS,
  MAX_DEVICE_LIST_BYTES,
  MAX_PROVISIONING_ENVELOPE_BYTES,
  MAX_PROVISIONING_EXTRA_BYTES,
  PROVISIONING_CODE_DIGITS,
  PROVISIONING_ENVELOPE_VERSION,
  PROVISIONING_ID_BYTES,
  PROVISIONING_KIND_CERTIFY,
  PROVISIONING_MESSAGE_VERSION,
} from './constants.js';
import { addDevice, decodeDeviceList, deviceListIncludes, encodeDeviceList, verifyDeviceList, type DeviceList } from './device-list.js';
import { encodeLinkCode, type LinkCode } from './link-code.js';

const AES_KEY_BYTES = 32;

/** Held by the new device while it waits (secrets: redacted in logs). */
export interface ProvisioningRequest {
  readonly link: LinkCode;
  /** `pigeon://link/…`: show as a QR code, or let the user copy it. */
  readonly linkCode: string;
  readonly ephemeral: KeyPair;
  readonly signing: KeyPair;
  readonly identity: KeyPair;
}

/** Step 1 (new device): fresh device keys, ephemeral key and provisioning id. */
export async function startProvisioning(crypto: CryptoBackend, relayUrl: string): Promise<ProvisioningRequest> {
  const ephemeral = protectKeyPair(await crypto.x25519GenerateKeyPair());
  const signing = protectKeyPair(await crypto.ed25519GenerateKeyPair());
  const identity = protectKeyPair(await crypto.x25519GenerateKeyPair());
  const link: LinkCode = {
    relayUrl,
    provisioningId: crypto.randomBytes(PROVISIONING_ID_BYTES),
    ephemeralKey: ephemeral.publicKey.slice(),
    deviceSigningKey: signing.publicKey.slice(),
    deviceIdentityKey: identity.publicKey.slice(),
  };
  const linkCode = encodeLinkCode(link);
  return redacted({ link, linkCode, ephemeral, signing, identity }, () => ({
    type: 'ProvisioningRequest',
    linkCode,
    ephemeral: '[redacted]',
    signing: '[redacted]',
    identity: '[redacted]',
  }));
}

/** What the existing device hands over. */
interface ProvisioningMessage {
  readonly provisioningId: Uint8Array;
  readonly certificate: DeviceCertificate;
  readonly deviceList: DeviceList;
  readonly extra: Uint8Array;
}

/** version(1) || kind(1)=1 || provisioningId(16) || certificate (u32 len + bytes) || deviceList (u32 len + bytes) || extra (u32 len + bytes) */
function encodeMessage(m: ProvisioningMessage): Uint8Array {
  return new Writer(1024)
    .u8(PROVISIONING_MESSAGE_VERSION)
    .u8(PROVISIONING_KIND_CERTIFY)
    .fixed(m.provisioningId, PROVISIONING_ID_BYTES)
    .bytes(encodeDeviceCertificate(m.certificate), MAX_CERTIFICATE_BYTES)
    .bytes(encodeDeviceList(m.deviceList), MAX_DEVICE_LIST_BYTES)
    .bytes(m.extra, MAX_PROVISIONING_EXTRA_BYTES)
    .finish();
}

function decodeMessage(bytes: Uint8Array): ProvisioningMessage {
  const r = new Reader(bytes);
  expectVersion(r.u8(), PROVISIONING_MESSAGE_VERSION, 'provisioning message');
  const kind = r.u8();
  if (kind !== PROVISIONING_KIND_CERTIFY) throw new ProtocolError('UNKNOWN_TYPE', `provisioning kind ${kind}`);
  const m: ProvisioningMessage = {
    provisioningId: r.fixed(PROVISIONING_ID_BYTES),
    certificate: decodeDeviceCertificate(r.bytes(MAX_CERTIFICATE_BYTES)),
    deviceList: decodeDeviceList(r.bytes(MAX_DEVICE_LIST_BYTES)),
    extra: r.bytes(MAX_PROVISIONING_EXTRA_BYTES),
  };
  r.end();
  return m;
}

function header(provisioningId: Uint8Array, recipientKey: Uint8Array, senderEphemeral: Uint8Array): Uint8Array {
  return new Writer(1 + PROVISIONING_ID_BYTES + 2 * KEY_BYTES)
    .u8(PROVISIONING_ENVELOPE_VERSION)
    .fixed(provisioningId, PROVISIONING_ID_BYTES)
    .fixed(recipientKey, KEY_BYTES)
    .fixed(senderEphemeral, KEY_BYTES)
    .finish();
}

async function envelopeKeys(crypto: CryptoBackend, shared: Uint8Array, aad: Uint8Array): Promise<{ key: Uint8Array; nonce: Uint8Array }> {
  const okm = await crypto.hkdfSha256(shared, new Uint8Array(32), concatBytes(LABEL_PROVISIONING_KEYS, aad.subarray(1)), AES_KEY_BYTES + AES_NONCE_BYTES);
  return { key: okm.slice(0, AES_KEY_BYTES), nonce: okm.slice(AES_KEY_BYTES) };
}

/** 6 digits both screens show: uint40(SHA-256(label || accountKey || provisioningId || P || E)[0..5]) mod 10^6. */
async function confirmationCode(crypto: CryptoBackend, accountKey: Uint8Array, aad: Uint8Array): Promise<string> {
  const h = await crypto.sha256(concatBytes(LABEL_PROVISIONING_CODE, accountKey, aad.subarray(1)));
  let value = 0;
  for (let i = 0; i < 5; i++) value = value * 256 + h[i]!;
  return String(value % 10 ** PROVISIONING_CODE_DIGITS).padStart(PROVISIONING_CODE_DIGITS, '0');
}

export interface CreatedProvisioning {
  /** Send to the new device's provisioning mailbox (relay `provision_send`). */
  readonly envelope: Uint8Array;
  /** The new device's certificate. */
  readonly certificate: DeviceCertificate;
  readonly deviceId: Uint8Array;
  /** The next signed list (with the new device): publish it (relay `put_device_list`) BEFORE sending the envelope. */
  readonly deviceList: DeviceList;
  /** Show next to the account's Pigeon ID; the new device must show the same. */
  readonly confirmationCode: string;
}

export interface CreateProvisioningInput {
  readonly account: AccountKeys;
  /** The account's current signed list (must include the existing device). */
  readonly deviceList: DeviceList;
  readonly link: LinkCode;
  readonly now: number;
  /** Optional application payload for the new device (≤ MAX_PROVISIONING_EXTRA_BYTES), e.g. a contacts snapshot key. */
  readonly extra?: Uint8Array;
}

/** Step 2 (existing device, holding the account key). */
export async function createProvisioningMessage(crypto: CryptoBackend, input: CreateProvisioningInput): Promise<CreatedProvisioning> {
  const { account, link, now } = input;
  const extra = input.extra ?? new Uint8Array(0);
  if (extra.length > MAX_PROVISIONING_EXTRA_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'provisioning extra payload too large');
  if (link.provisioningId.length !== PROVISIONING_ID_BYTES || link.ephemeralKey.length !== KEY_BYTES) {
    throw new ProtocolError('BAD_FIELD', 'malformed link');
  }
  await verifyDeviceList(crypto, input.deviceList, account.signing.publicKey);
  try {
    const certificate = await certifyDevice(crypto, account, link.deviceSigningKey, link.deviceIdentityKey, now);
    const deviceList = await addDevice(crypto, account, input.deviceList, certificate, now);
    const ephemeral = await crypto.x25519GenerateKeyPair();
    const aad = header(link.provisioningId, link.ephemeralKey, ephemeral.publicKey);
    const shared = await crypto.x25519(ephemeral.secretKey, link.ephemeralKey);
    const { key, nonce } = await envelopeKeys(crypto, shared, aad);
    const plaintext = encodeMessage({ provisioningId: link.provisioningId, certificate, deviceList, extra });
    const sealed = await crypto.aes256GcmEncrypt(key, nonce, plaintext, aad);
    const envelope = concatBytes(new Uint8Array([PROVISIONING_ENVELOPE_VERSION]), ephemeral.publicKey, sealed);
    if (envelope.length > MAX_PROVISIONING_ENVELOPE_BYTES) throw new ProtocolError('FIELD_TOO_LARGE', 'provisioning envelope too large');
    return {
      envelope,
      certificate,
      deviceId: await deviceIdOf(crypto, link.deviceSigningKey),
      deviceList,
      confirmationCode: await confirmationCode(crypto, account.signing.publicKey, aad),
    };
  } catch (e) {
    throw asProtocolError(e, 'BAD_FIELD', 'cannot create the provisioning message');
  }
}

export interface OpenedProvisioning {
  readonly deviceKeys: DeviceKeys;
  readonly deviceList: DeviceList;
  readonly accountKey: Uint8Array;
  readonly accountId: Uint8Array;
  /** Show it: the user checks it is their account (the existing device shows the same). */
  readonly pigeonId: string;
  readonly confirmationCode: string;
  readonly extra: Uint8Array;
}

export interface OpenProvisioningOptions {
  /** When the user already typed the Pigeon ID they expect, a message for another account is IDENTITY_MISMATCH. */
  readonly expectedAccountId?: Uint8Array;
}

/**
 * Step 3 (new device). Refused: wrong size, another version, tampering or another recipient key
 * (DECRYPT_FAILED); another provisioning id (DECRYPT_FAILED — the id is bound in the AAD and
 * checked again inside); a certificate that does not verify (BAD_CERTIFICATE) or does not name
 * this device's keys (IDENTITY_MISMATCH); a list not signed by the same account key
 * (IDENTITY_MISMATCH / BAD_SIGNATURE) or not listing this device (NOT_IN_DEVICE_LIST).
 * The request is single-use: the caller discards it after the first message that opens.
 */
export async function openProvisioningMessage(
  crypto: CryptoBackend,
  request: ProvisioningRequest,
  envelope: Uint8Array,
  options: OpenProvisioningOptions = {},
): Promise<OpenedProvisioning> {
  if (!(envelope instanceof Uint8Array) || envelope.length > MAX_PROVISIONING_ENVELOPE_BYTES) {
    throw new ProtocolError('FIELD_TOO_LARGE', 'provisioning envelope too large');
  }
  if (envelope.length < 1 + KEY_BYTES + 16) throw new ProtocolError('TRUNCATED', 'provisioning envelope too short');
  expectVersion(envelope[0]!, PROVISIONING_ENVELOPE_VERSION, 'provisioning envelope');
  const senderEphemeral = envelope.slice(1, 1 + KEY_BYTES);
  const aad = header(request.link.provisioningId, request.ephemeral.publicKey, senderEphemeral);
  let plaintext: Uint8Array;
  try {
    const shared = await crypto.x25519(request.ephemeral.secretKey, senderEphemeral);
    const { key, nonce } = await envelopeKeys(crypto, shared, aad);
    plaintext = await crypto.aes256GcmDecrypt(key, nonce, envelope.subarray(1 + KEY_BYTES), aad);
  } catch (cause) {
    throw new ProtocolError('DECRYPT_FAILED', 'provisioning envelope does not authenticate', { cause });
  }
  const message = decodeMessage(plaintext);
  if (!equalBytes(message.provisioningId, request.link.provisioningId)) {
    throw new ProtocolError('DECRYPT_FAILED', 'provisioning message for another attempt');
  }
  const { certificate, deviceList } = message;
  await verifyDeviceCertificate(crypto, certificate);
  if (!equalBytes(certificate.deviceSigningKey, request.signing.publicKey) || !equalBytes(certificate.deviceIdentityKey, request.identity.publicKey)) {
    throw new ProtocolError('IDENTITY_MISMATCH', 'certificate is for another device');
  }
  await verifyDeviceList(crypto, deviceList, certificate.accountKey);
  if (!deviceListIncludes(deviceList, certificate)) throw new ProtocolError('NOT_IN_DEVICE_LIST', 'the device list does not list this device');
  const accountId = await accountIdOf(crypto, certificate.accountKey);
  if (options.expectedAccountId !== undefined && !equalBytes(options.expectedAccountId, accountId)) {
    throw new ProtocolError('IDENTITY_MISMATCH', 'linked to an account other than the expected one');
  }
  return {
    deviceKeys: deviceKeysFromParts(request.signing, request.identity, certificate),
    deviceList,
    accountKey: certificate.accountKey,
    accountId,
    pigeonId: formatPigeonId(accountId),
    confirmationCode: await confirmationCode(crypto, certificate.accountKey, aad),
    extra: message.extra,
  };
}
