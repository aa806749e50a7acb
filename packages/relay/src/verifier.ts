/**
 * The only place the relay touches identity cryptography, behind a small interface so the
 * connection logic stays independent of the protocol package's internals.
 */
import { RelayError, type WirePreKey, type WireSignedPreKey } from '@pigeon/api';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  accountIdOf,
  authMessage,
  decodeDeviceCertificate,
  deviceIdOf,
  encodePreKeyBundle,
  verifyDeviceCertificate,
  verifyPreKeySignature,
} from '@pigeon/protocol';

export interface CertifiedDevice {
  readonly accountId: Uint8Array;
  readonly deviceId: Uint8Array;
  readonly deviceSigningKey: Uint8Array;
}

export interface RelayVerifier {
  /** Decodes and verifies an encoded DeviceCertificate; throws RelayError BAD_CERTIFICATE. */
  verifyCertificate(certificate: Uint8Array): Promise<CertifiedDevice>;
  /** True when `signature` is the device's signature over authMessage(nonce). Never throws. */
  verifyChallenge(deviceSigningKey: Uint8Array, nonce: Uint8Array, signature: Uint8Array): Promise<boolean>;
  /** True when the prekey is signed by the device signing key. Never throws. */
  verifyPreKey(deviceSigningKey: Uint8Array, kind: 'signed' | 'kem', preKey: WireSignedPreKey): Promise<boolean>;
  /** Encodes the protocol PreKeyBundle served to initiators. */
  encodeBundle(certificate: Uint8Array, signedPreKey: WireSignedPreKey, oneTimePreKey: WirePreKey | null, kemPreKey: WireSignedPreKey): Uint8Array;
}

export function createProtocolVerifier(crypto: CryptoBackend): RelayVerifier {
  return {
    async verifyCertificate(certificate) {
      try {
        const cert = decodeDeviceCertificate(certificate);
        await verifyDeviceCertificate(crypto, cert);
        return {
          accountId: await accountIdOf(crypto, cert.accountKey),
          deviceId: await deviceIdOf(crypto, cert.deviceSigningKey),
          deviceSigningKey: cert.deviceSigningKey,
        };
      } catch (cause) {
        throw new RelayError('BAD_CERTIFICATE', 'device certificate does not verify', 0, { cause });
      }
    },
    async verifyChallenge(deviceSigningKey, nonce, signature) {
      try {
        return await crypto.ed25519Verify(deviceSigningKey, authMessage(nonce), signature);
      } catch {
        return false;
      }
    },
    async verifyPreKey(deviceSigningKey, kind, preKey) {
      try {
        return await verifyPreKeySignature(crypto, deviceSigningKey, kind, preKey.id, preKey.publicKey, preKey.signature);
      } catch {
        return false;
      }
    },
    encodeBundle(certificate, signedPreKey, oneTimePreKey, kemPreKey) {
      return encodePreKeyBundle({
        certificate: decodeDeviceCertificate(certificate),
        signedPreKey,
        oneTimePreKey,
        kemPreKey,
      });
    },
  };
}
