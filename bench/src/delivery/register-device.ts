/**
 * A protocol-level benchmark device registered at the relay over the real api frames: account and
 * device keys, a signed and a last-resort KEM prekey (no one-time prekeys, nobody opens a session
 * with it), one delivery token. The delivery load generator and the group benchmark's light
 * members both register their devices this way.
 */
import { randomBytes } from 'node:crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import type { AccountKeys, PigeonProtocol } from '../protocol/pigeon-contract.js';
import { PigeonLink, type ApiCodec, type LinkOptions } from '../common/pigeon-link.js';

/** The protocol functions a registration needs. */
export type RegistrationProtocol = Pick<PigeonProtocol, 'createAccountKeys' | 'createDeviceKeys' | 'generateSignedPreKey' | 'generateKemPreKey' | 'deviceIdOf' | 'authMessage' | 'encodeDeviceCertificate'>;

export interface RegisteredDevice {
  readonly account: AccountKeys;
  /** The device id (deviceIdOf its signing key). */
  readonly id: Uint8Array;
  readonly token: Uint8Array;
  readonly connection: PigeonLink;
}

export async function registerBenchDevice(
  url: string,
  { protocol, crypto, codec }: { protocol: RegistrationProtocol; crypto: CryptoBackend; codec: ApiCodec },
  tokenBytes: number,
  linkOptions: LinkOptions = {},
): Promise<RegisteredDevice> {
  const createdAt = Date.now();
  const account = await protocol.createAccountKeys(crypto);
  const keys = await protocol.createDeviceKeys(crypto, account, createdAt);
  const signed = await protocol.generateSignedPreKey(crypto, keys, 1, createdAt);
  const kem = await protocol.generateKemPreKey(crypto, keys, 1, true, createdAt);
  const id = await protocol.deviceIdOf(crypto, keys.certificate.deviceSigningKey);
  const token = new Uint8Array(randomBytes(tokenBytes));

  const connection = await PigeonLink.open(url, undefined, codec, linkOptions);
  const nonce = await connection.challenge();
  const signature = await crypto.ed25519Sign(keys.signing.secretKey, protocol.authMessage(nonce));
  await connection.requestOk({ type: 'register', certificate: protocol.encodeDeviceCertificate(keys.certificate), signature }, 'register');
  await connection.requestOk(
    {
      type: 'upload_prekeys',
      signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
      kemLastResortPreKey: { id: kem.id, publicKey: kem.keyPair.publicKey, signature: kem.signature },
      oneTimePreKeys: [],
      kemOneTimePreKeys: [],
    },
    'upload_prekeys',
  );
  await connection.requestOk({ type: 'set_delivery_tokens', add: [token], remove: [] }, 'set_delivery_tokens');
  return { account, id, token, connection };
}
