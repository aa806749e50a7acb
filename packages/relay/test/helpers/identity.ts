/** Real identities from the protocol package, for tests that exercise the relay's checks. */
import type { UploadPreKeysFrame, WirePreKey, WireSignedPreKey } from '@pigeon/api';
import { defaultBackend, type CryptoBackend } from '@pigeon/crypto';
import {
  accountIdOf,
  authMessage,
  createAccountKeys,
  createDeviceKeys,
  deviceIdOf,
  encodeDeviceCertificate,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  type AccountKeys,
  type DeviceKeys,
} from '@pigeon/protocol';

export const crypto: CryptoBackend = defaultBackend();

export interface TestDevice {
  readonly account: AccountKeys;
  readonly keys: DeviceKeys;
  readonly deviceId: Uint8Array;
  readonly accountId: Uint8Array;
  readonly certificate: Uint8Array;
}

export async function newDevice(account?: AccountKeys): Promise<TestDevice> {
  const acc = account ?? (await createAccountKeys(crypto));
  const keys = await createDeviceKeys(crypto, acc, Date.now());
  return {
    account: acc,
    keys,
    deviceId: await deviceIdOf(crypto, keys.signing.publicKey),
    accountId: await accountIdOf(crypto, acc.signing.publicKey),
    certificate: encodeDeviceCertificate(keys.certificate),
  };
}

export function signChallenge(device: TestDevice, nonce: Uint8Array): Promise<Uint8Array> {
  return crypto.ed25519Sign(device.keys.signing.secretKey, authMessage(nonce));
}

export interface UploadSpec {
  readonly signed?: boolean;
  readonly lastResort?: boolean;
  readonly oneTime?: number;
  readonly kemOneTime?: number;
  readonly firstId?: number;
}

/** Builds a correctly signed upload_prekeys frame (ids start at firstId, default 1). */
export async function preKeyUpload(device: TestDevice, id: number, spec: UploadSpec = {}): Promise<UploadPreKeysFrame> {
  const first = spec.firstId ?? 1;
  const now = Date.now();
  let signedPreKey: WireSignedPreKey | null = null;
  if (spec.signed ?? true) {
    const k = await generateSignedPreKey(crypto, device.keys, first, now);
    signedPreKey = { id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature };
  }
  let kemLastResortPreKey: WireSignedPreKey | null = null;
  if (spec.lastResort ?? true) {
    const k = await generateKemPreKey(crypto, device.keys, first, true, now);
    kemLastResortPreKey = { id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature };
  }
  const oneTimePreKeys: WirePreKey[] = (await generateOneTimePreKeys(crypto, first, spec.oneTime ?? 0)).map((k) => ({
    id: k.id,
    publicKey: k.keyPair.publicKey,
  }));
  const kemOneTimePreKeys: WireSignedPreKey[] = [];
  for (let i = 0; i < (spec.kemOneTime ?? 0); i++) {
    const k = await generateKemPreKey(crypto, device.keys, first + 1 + i, false, now);
    kemOneTimePreKeys.push({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature });
  }
  return { type: 'upload_prekeys', id, signedPreKey, kemLastResortPreKey, oneTimePreKeys, kemOneTimePreKeys };
}
