/** Test helpers: a seeded deterministic backend and ready-made devices with prekeys. */
import { rngChacha20 } from '@noble/ciphers/chacha.js';
import { createNobleBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import {
  createAccountKeys,
  createDeviceKeys,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
  initiateSession,
  sessionDecrypt,
  sessionEncrypt,
} from '../src/index.js';
import type {
  AccountKeys,
  CiphertextMessage,
  DeviceKeys,
  KemPreKeyPair,
  OneTimePreKeyPair,
  PreKeyBundle,
  PreKeyStore,
  SessionRecord,
  SignedPreKeyPair,
} from '../src/index.js';

export const NOW = 1_750_000_000_000;

/**
 * The noble backend with every random choice drawn from a ChaCha20 DRBG (@noble/ciphers
 * rngChacha20): key generation and ML-KEM encapsulation become deterministic too.
 */
export function seededBackend(seed: number): CryptoBackend {
  const base = createNobleBackend();
  const seedBytes = new Uint8Array(32);
  new DataView(seedBytes.buffer).setUint32(0, seed >>> 0);
  const prg = rngChacha20(seedBytes);
  const randomBytes = (n: number): Uint8Array => prg.randomBytes(n);
  return {
    ...base,
    randomBytes,
    async x25519GenerateKeyPair() {
      const secretKey = randomBytes(32);
      return { secretKey, publicKey: await base.x25519PublicKey(secretKey) };
    },
    async ed25519GenerateKeyPair() {
      const secretKey = randomBytes(32);
      return { secretKey, publicKey: await base.ed25519PublicKey(secretKey) };
    },
    mlKem1024GenerateKeyPair: (seedIn) => base.mlKem1024GenerateKeyPair(seedIn ?? randomBytes(64)),
    mlKem1024Encapsulate: (pk, r) => base.mlKem1024Encapsulate(pk, r ?? randomBytes(32)),
  };
}

export interface Party {
  readonly account: AccountKeys;
  readonly device: DeviceKeys;
  readonly signed: SignedPreKeyPair;
  readonly oneTime: OneTimePreKeyPair[];
  readonly kemOneTime: KemPreKeyPair;
  readonly kemLastResort: KemPreKeyPair;
  readonly store: PreKeyStore;
}

export async function makeParty(crypto: CryptoBackend, oneTimeCount = 2): Promise<Party> {
  const account = await createAccountKeys(crypto);
  const device = await createDeviceKeys(crypto, account, NOW);
  const signed = await generateSignedPreKey(crypto, device, 1, NOW);
  const oneTime = await generateOneTimePreKeys(crypto, 100, oneTimeCount);
  const kemOneTime = await generateKemPreKey(crypto, device, 200, false, NOW);
  const kemLastResort = await generateKemPreKey(crypto, device, 201, true, NOW);
  const store: PreKeyStore = {
    signedPreKey: async (id) => (id === signed.id ? signed : undefined),
    oneTimePreKey: async (id) => oneTime.find((k) => k.id === id),
    kemPreKey: async (id) => [kemOneTime, kemLastResort].find((k) => k.id === id),
  };
  return { account, device, signed, oneTime, kemOneTime, kemLastResort, store };
}

export function bundleOf(p: Party, opts: { oneTime?: number | null; lastResort?: boolean } = {}): PreKeyBundle {
  const opkIndex = opts.oneTime === undefined ? 0 : opts.oneTime;
  const opk = opkIndex === null ? undefined : p.oneTime[opkIndex];
  const kem = opts.lastResort ? p.kemLastResort : p.kemOneTime;
  return {
    certificate: p.device.certificate,
    signedPreKey: { id: p.signed.id, publicKey: p.signed.keyPair.publicKey, signature: p.signed.signature },
    oneTimePreKey: opk ? { id: opk.id, publicKey: opk.keyPair.publicKey } : null,
    kemPreKey: { id: kem.id, publicKey: kem.keyPair.publicKey, signature: kem.signature },
  };
}

/** One side of a conversation: its party and its record for the peer. */
export interface Side {
  readonly party: Party;
  record: SessionRecord | undefined;
}

export async function send(crypto: CryptoBackend, from: Side, text: string, now = NOW): Promise<CiphertextMessage> {
  const { record, message } = await sessionEncrypt(crypto, from.record!, new TextEncoder().encode(text), now);
  from.record = record;
  return message;
}

export async function receive(crypto: CryptoBackend, to: Side, from: Side, message: CiphertextMessage, now = NOW): Promise<string> {
  const r = await sessionDecrypt(crypto, to.party.device, to.record, to.party.store, from.party.device.certificate, message, now);
  to.record = r.record;
  return new TextDecoder().decode(r.plaintext);
}

/** Alice and Bob with an established session (Alice initiated, Bob replied once, Alice read it). */
export async function establish(crypto: CryptoBackend, alice: Party, bob: Party): Promise<{ a: Side; b: Side }> {
  const a: Side = { party: alice, record: await initiateSession(crypto, alice.device, undefined, bundleOf(bob), NOW) };
  const b: Side = { party: bob, record: undefined };
  await receive(crypto, b, a, await send(crypto, a, 'hello'));
  await receive(crypto, a, b, await send(crypto, b, 'hi'));
  return { a, b };
}

export async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const { ProtocolError } = await import('../src/index.js');
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw new Error(`expected ProtocolError ${code}, got ${String(error)}`, { cause: error });
    if (error.code !== code) throw new Error(`expected ${code}, got ${error.code}: ${error.message}`, { cause: error });
    return;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}
