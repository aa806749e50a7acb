/**
 * PQXDH key agreement (Signal PQXDH spec, revision 3, sections 3.3-3.4) with X25519 and
 * ML-KEM-1024, followed by the Double Ratchet initialisation (Double Ratchet spec 3.3).
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  DH4 = DH(EK_A, OPK_B)
 *   (CT, SS) = ML-KEM-1024.Encaps(PQPK_B)
 *   SK = HKDF-SHA-256(F || DH1 || DH2 || DH3 [|| DH4] || SS, salt = 0^32, info = LABEL_PQXDH_INFO, 32)
 *   AD = IK_A || IK_B || SHA-256(transcript)
 * where F is 32 0xFF bytes and the transcript binds both device certificates, EK_A, the
 * signed, one-time and KEM prekeys with their ids, and the KEM ciphertext (the spec's
 * section 4.8-4.9 advice on binding identities and the KEM public key / ciphertext).
 */
import { CryptoError, concatBytes, wipe } from '@pigeon/crypto';
import type { CryptoBackend, KeyPair } from '@pigeon/crypto';
import { Writer } from './codec/index.js';
import {
  CERTIFICATE_BYTES,
  KEM_CIPHERTEXT_BYTES,
  KEM_PUBLIC_KEY_BYTES,
  KEY_BYTES,
  LABEL_PQXDH_INFO,
  LABEL_PQXDH_TRANSCRIPT,
  RATCHET_CLASSIC,
} from './constants.js';
import { ProtocolError } from './errors.js';
import type { PreKeyBundle } from './bundle.js';
import { writeDeviceCertificate } from './identity.js';
import type { DeviceCertificate, DeviceKeys } from './identity.js';
import type { PreKeyHeader } from './messages.js';
import type { KemPreKeyPair, OneTimePreKeyPair, SignedPreKeyPair } from './prekeys.js';
import { kdfRootKey } from './ratchet-kdf.js';
import { protectKeyPair } from './redact.js';
import type { SessionState } from './session-state.js';

const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);
const EMPTY = new Uint8Array(0);

interface TranscriptInput {
  readonly initiator: DeviceCertificate;
  readonly responder: DeviceCertificate;
  readonly baseKey: Uint8Array;
  readonly signedPreKeyId: number;
  readonly signedPreKey: Uint8Array;
  readonly oneTimePreKey: { id: number; publicKey: Uint8Array } | null;
  readonly kemPreKeyId: number;
  readonly kemPreKey: Uint8Array;
  readonly kemCiphertext: Uint8Array;
}

async function associatedData(crypto: CryptoBackend, t: TranscriptInput): Promise<Uint8Array> {
  const w = new Writer(LABEL_PQXDH_TRANSCRIPT.length + 2 * CERTIFICATE_BYTES + 128 + KEM_PUBLIC_KEY_BYTES + KEM_CIPHERTEXT_BYTES);
  w.fixed(LABEL_PQXDH_TRANSCRIPT, LABEL_PQXDH_TRANSCRIPT.length);
  writeDeviceCertificate(w, t.initiator);
  writeDeviceCertificate(w, t.responder);
  w.fixed(t.baseKey, KEY_BYTES).u32(t.signedPreKeyId).fixed(t.signedPreKey, KEY_BYTES);
  if (t.oneTimePreKey) w.u8(1).u32(t.oneTimePreKey.id).fixed(t.oneTimePreKey.publicKey, KEY_BYTES);
  else w.u8(0);
  w.u32(t.kemPreKeyId).fixed(t.kemPreKey, KEM_PUBLIC_KEY_BYTES).fixed(t.kemCiphertext, KEM_CIPHERTEXT_BYTES);
  const transcriptHash = await crypto.sha256(w.finish());
  return concatBytes(t.initiator.deviceIdentityKey, t.responder.deviceIdentityKey, transcriptHash);
}

/** SK per PQXDH section 3.3; the DH outputs, the KEM secret and the concatenation are zeroed afterwards. */
async function deriveSecret(crypto: CryptoBackend, dhs: readonly Uint8Array[], kemSecret: Uint8Array): Promise<Uint8Array> {
  const ikm = concatBytes(F, ...dhs, kemSecret);
  const secret = await crypto.hkdfSha256(ikm, ZERO_SALT, LABEL_PQXDH_INFO, KEY_BYTES);
  wipe(ikm, kemSecret, ...dhs);
  return secret;
}

/** Maps a low-order point or a KEM input-check failure to a protocol error code. */
async function guard<T>(code: ProtocolError['code'], what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (cause) {
    if (cause instanceof CryptoError) throw new ProtocolError(code, what, { cause });
    throw cause;
  }
}

/** Initiator side: returns the new session, its sending chain ready, and the prekey header to attach. */
export async function pqxdhInitiate(crypto: CryptoBackend, ours: DeviceKeys, bundle: PreKeyBundle): Promise<SessionState> {
  const theirs = bundle.certificate;
  const spk = bundle.signedPreKey.publicKey;
  const ephemeral = await crypto.x25519GenerateKeyPair();
  const { ciphertext, sharedSecret } = await guard('BAD_FIELD', 'bundle KEM prekey is invalid', () =>
    crypto.mlKem1024Encapsulate(bundle.kemPreKey.publicKey),
  );
  const dhs = await guard('BAD_FIELD', 'bundle key is a low-order point', async () => {
    const out = [
      await crypto.x25519(ours.identity.secretKey, spk),
      await crypto.x25519(ephemeral.secretKey, theirs.deviceIdentityKey),
      await crypto.x25519(ephemeral.secretKey, spk),
    ];
    if (bundle.oneTimePreKey) out.push(await crypto.x25519(ephemeral.secretKey, bundle.oneTimePreKey.publicKey));
    return out;
  });
  const secret = await deriveSecret(crypto, dhs, sharedSecret);
  const ad = await associatedData(crypto, {
    initiator: ours.certificate,
    responder: theirs,
    baseKey: ephemeral.publicKey,
    signedPreKeyId: bundle.signedPreKey.id,
    signedPreKey: spk,
    oneTimePreKey: bundle.oneTimePreKey,
    kemPreKeyId: bundle.kemPreKey.id,
    kemPreKey: bundle.kemPreKey.publicKey,
    kemCiphertext: ciphertext,
  });
  // RatchetInitAlice: the responder's signed prekey is its first ratchet public key.
  const sendingRatchet = protectKeyPair(await crypto.x25519GenerateKeyPair());
  const firstDh = await guard('BAD_FIELD', 'low-order SPK', () => crypto.x25519(sendingRatchet.secretKey, spk));
  const [rootKey, sendingChainKey] = await kdfRootKey(crypto, secret, firstDh);
  wipe(firstDh, secret, ephemeral.secretKey); // EK_A's secret is never needed again (PQXDH section 3.3)
  const pending: PreKeyHeader = {
    certificate: ours.certificate,
    baseKey: ephemeral.publicKey,
    signedPreKeyId: bundle.signedPreKey.id,
    oneTimePreKeyId: bundle.oneTimePreKey ? bundle.oneTimePreKey.id : null,
    kemPreKeyId: bundle.kemPreKey.id,
    kemCiphertext: ciphertext,
  };
  return {
    ratchetVersion: RATCHET_CLASSIC,
    ratchetExtension: EMPTY,
    baseKey: ephemeral.publicKey,
    ad,
    rootKey,
    sendingRatchet,
    sendingChainKey,
    sendingIndex: 0,
    previousCounter: 0,
    receivingChains: [],
    skipped: [],
    pending,
    preKeyDigest: null,
  };
}

export interface ResponderPreKeys {
  readonly signed: SignedPreKeyPair;
  readonly oneTime: OneTimePreKeyPair | null;
  readonly kem: KemPreKeyPair;
}

/**
 * Responder side (RatchetInitBob): the state before the first message is decrypted. Its
 * sending ratchet is the signed prekey pair, which the first received message replaces
 * at once, so the stored session never holds a prekey secret.
 */
export async function pqxdhRespond(
  crypto: CryptoBackend,
  ours: DeviceKeys,
  keys: ResponderPreKeys,
  header: PreKeyHeader,
  preKeyDigest: Uint8Array,
): Promise<SessionState> {
  const theirs = header.certificate;
  const spk: KeyPair = keys.signed.keyPair;
  const dhs = await guard('DECRYPT_FAILED', 'prekey message key is a low-order point', async () => {
    const out = [
      await crypto.x25519(spk.secretKey, theirs.deviceIdentityKey),
      await crypto.x25519(ours.identity.secretKey, header.baseKey),
      await crypto.x25519(spk.secretKey, header.baseKey),
    ];
    if (keys.oneTime) out.push(await crypto.x25519(keys.oneTime.keyPair.secretKey, header.baseKey));
    return out;
  });
  // Implicit rejection (FIPS 203): a bad ciphertext gives a wrong secret and the first message fails to authenticate.
  const sharedSecret = await guard('DECRYPT_FAILED', 'KEM decapsulation failed', () =>
    crypto.mlKem1024Decapsulate(header.kemCiphertext, keys.kem.keyPair.secretKey),
  );
  const secret = await deriveSecret(crypto, dhs, sharedSecret);
  const ad = await associatedData(crypto, {
    initiator: theirs,
    responder: ours.certificate,
    baseKey: header.baseKey,
    signedPreKeyId: keys.signed.id,
    signedPreKey: spk.publicKey,
    oneTimePreKey: keys.oneTime ? { id: keys.oneTime.id, publicKey: keys.oneTime.keyPair.publicKey } : null,
    kemPreKeyId: keys.kem.id,
    kemPreKey: keys.kem.keyPair.publicKey,
    kemCiphertext: header.kemCiphertext,
  });
  return {
    ratchetVersion: RATCHET_CLASSIC,
    ratchetExtension: EMPTY,
    baseKey: header.baseKey.slice(),
    ad,
    rootKey: secret,
    sendingRatchet: spk,
    // No sending chain yet: the first received message runs the DH ratchet and creates one.
    sendingChainKey: new Uint8Array(KEY_BYTES),
    sendingIndex: 0,
    previousCounter: 0,
    receivingChains: [],
    skipped: [],
    pending: null,
    preKeyDigest,
  };
}
