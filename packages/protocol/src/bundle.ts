/**
 * The prekey bundle a relay hands to an initiator (PQXDH spec section 3.3). A bundle always
 * carries a signed ML-KEM-1024 prekey: we refuse to fall back to classical X3DH, so a
 * quantum adversary recording traffic today cannot read it later.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { Reader, Writer } from './codec/index.js';
import { BUNDLE_VERSION, KEM_PUBLIC_KEY_BYTES, KEY_BYTES, SIGNATURE_BYTES } from './constants.js';
import { ProtocolError } from './errors.js';
import { readCertificateField, verifyDeviceCertificate, writeCertificateField } from './identity.js';
import type { DeviceCertificate } from './identity.js';
import { verifyPreKeySignature } from './prekeys.js';
import { expectVersion } from './codec-helpers.js';

export interface PreKeyBundle {
  readonly certificate: DeviceCertificate;
  readonly signedPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  readonly oneTimePreKey: { id: number; publicKey: Uint8Array } | null;
  /** One-time if the relay has any left, else the last-resort one. */
  readonly kemPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
}

function requireKem(b: PreKeyBundle): NonNullable<PreKeyBundle['kemPreKey']> {
  // The type says it is present, but bundles come from the network via JS callers too.
  const kem = (b as { kemPreKey?: PreKeyBundle['kemPreKey'] | null }).kemPreKey;
  if (kem === null || kem === undefined) throw new ProtocolError('MISSING_PQ_PREKEY', 'bundle has no ML-KEM prekey');
  return kem;
}

/**
 * version(1) || certificate (u32 len + bytes) || spkId(u32) || spk(32) || spkSig(64)
 * || hasOpk(u8) [|| opkId(u32) || opk(32)] || hasKem(u8=1) || kemId(u32) || kemPk(1568) || kemSig(64)
 */
export function encodePreKeyBundle(b: PreKeyBundle): Uint8Array {
  const kem = requireKem(b);
  const w = new Writer(2048 + KEM_PUBLIC_KEY_BYTES).u8(BUNDLE_VERSION);
  writeCertificateField(w, b.certificate)
    .u32(b.signedPreKey.id)
    .fixed(b.signedPreKey.publicKey, KEY_BYTES)
    .fixed(b.signedPreKey.signature, SIGNATURE_BYTES);
  if (b.oneTimePreKey) w.u8(1).u32(b.oneTimePreKey.id).fixed(b.oneTimePreKey.publicKey, KEY_BYTES);
  else w.u8(0);
  return w.u8(1).u32(kem.id).fixed(kem.publicKey, KEM_PUBLIC_KEY_BYTES).fixed(kem.signature, SIGNATURE_BYTES).finish();
}

export function decodePreKeyBundle(bytes: Uint8Array): PreKeyBundle {
  const r = new Reader(bytes);
  expectVersion(r.u8(), BUNDLE_VERSION, 'prekey bundle');
  const certificate = readCertificateField(r);
  const signedPreKey = { id: r.u32(), publicKey: r.fixed(KEY_BYTES), signature: r.fixed(SIGNATURE_BYTES) };
  const oneTimePreKey = r.bool() ? { id: r.u32(), publicKey: r.fixed(KEY_BYTES) } : null;
  if (!r.bool()) throw new ProtocolError('MISSING_PQ_PREKEY', 'bundle has no ML-KEM prekey');
  const kemPreKey = { id: r.u32(), publicKey: r.fixed(KEM_PUBLIC_KEY_BYTES), signature: r.fixed(SIGNATURE_BYTES) };
  r.end();
  return { certificate, signedPreKey, oneTimePreKey, kemPreKey };
}

/** Certificate (BAD_CERTIFICATE), then both prekey signatures by the device signing key (BAD_SIGNATURE). */
export async function verifyPreKeyBundle(crypto: CryptoBackend, b: PreKeyBundle): Promise<void> {
  const kem = requireKem(b);
  if (b.oneTimePreKey && b.oneTimePreKey.publicKey.length !== KEY_BYTES) {
    throw new ProtocolError('BAD_FIELD', 'one-time prekey must be 32 bytes');
  }
  await verifyDeviceCertificate(crypto, b.certificate);
  const signingKey = b.certificate.deviceSigningKey;
  const spk = b.signedPreKey;
  await verifyPreKeySignature(crypto, signingKey, 'signed', spk.id, spk.publicKey, spk.signature);
  await verifyPreKeySignature(crypto, signingKey, 'kem', kem.id, kem.publicKey, kem.signature);
}
