/**
 * Pigeon's side of the protocol benchmark, written against the @pigeon/protocol contract.
 * The package is loaded at run time and checked for the functions used, so a missing or
 * incomplete protocol package is reported by the harness instead of breaking the build.
 *
 * Store discipline, like the libsignal side: session records live in a Map<string, Uint8Array>
 * and are decoded before / encoded after every message; private prekeys are stored encoded
 * and decoded when a PQXDH initial message looks them up.
 */
import type { CryptoBackend } from '@pigeon/crypto';
import { assertSameBytes, nextPlaintext, startClock } from './contender.js';
import type { Clocked, Contender, Conversation } from './contender.js';
import type { DeviceCertificate, DeviceKeys, KemPreKeyPair, OneTimePreKeyPair, PigeonProtocol, PreKeyStore, SignedPreKeyPair } from './pigeon-contract.js';
import { missingProtocolFunctions } from './pigeon-contract.js';

type Codec<T> = { encode(value: T): Uint8Array; decode(bytes: Uint8Array): T };

interface Device {
  readonly keys: DeviceKeys;
  /** Session records by remote device, as bytes. */
  readonly sessions: Map<string, Uint8Array>;
  readonly signed: Map<number, Uint8Array>;
  readonly oneTime: Map<number, Uint8Array>;
  readonly kem: Map<number, Uint8Array>;
  readonly name: string;
}

export type LoadResult = { ok: true; contenders: Contender[]; notes: string[] } | { ok: false; reason: string };

export async function loadPigeonContenders(): Promise<LoadResult> {
  let protocol: PigeonProtocol;
  let cryptoModule: { defaultBackend(): CryptoBackend; createNobleBackend(): CryptoBackend };
  try {
    protocol = (await import('@pigeon/protocol')) as unknown as PigeonProtocol;
    cryptoModule = (await import('@pigeon/crypto')) as unknown as typeof cryptoModule;
  } catch (error) {
    return { ok: false, reason: `cannot load @pigeon/protocol or @pigeon/crypto (${error instanceof Error ? error.message : String(error)}); run npm run build` };
  }
  const missing = missingProtocolFunctions(protocol);
  if (missing.length > 0) return { ok: false, reason: `@pigeon/protocol does not export yet: ${missing.join(', ')}` };
  const notes: string[] = [];
  const fast = cryptoModule.defaultBackend();
  const noble = cryptoModule.createNobleBackend();
  if (fast.name === 'noble') notes.push('defaultBackend() is the noble backend here: both Pigeon rows measure the same code');
  // Distinct names even when defaultBackend() is noble: the harness keys its samples by name.
  const fastName = fast.name === 'noble' ? 'pigeon (default=noble)' : `pigeon (${fast.name})`;
  return {
    ok: true,
    notes,
    contenders: [createPigeonContender(protocol, fast, fastName), createPigeonContender(protocol, noble, 'pigeon (noble)')],
  };
}

/** Exported so a patched protocol or crypto build can be A/B-tested against this one in one process. */
export function createPigeonContender(p: PigeonProtocol, crypto: CryptoBackend, name: string): Contender {
  const signedCodec: Codec<SignedPreKeyPair> = { encode: p.encodeSignedPreKey, decode: p.decodeSignedPreKey };
  const oneTimeCodec: Codec<OneTimePreKeyPair> = { encode: p.encodeOneTimePreKey, decode: p.decodeOneTimePreKey };
  const kemCodec: Codec<KemPreKeyPair> = { encode: p.encodeKemPreKey, decode: p.decodeKemPreKey };
  let deviceCounter = 0;

  async function newDevice(): Promise<Device> {
    const now = Date.now();
    const account = await p.createAccountKeys(crypto);
    const keys = await p.createDeviceKeys(crypto, account, now);
    const spk = await p.generateSignedPreKey(crypto, keys, 1, now);
    const device: Device = { keys, sessions: new Map(), signed: new Map(), oneTime: new Map(), kem: new Map(), name: `device-${++deviceCounter}` };
    device.signed.set(spk.id, signedCodec.encode(spk));
    return device;
  }

  let nextPreKeyId = 1;
  /** Makes a fresh one-time X25519 and one-time ML-KEM prekey; returns the encoded bundle the relay holds. */
  async function publishBundle(device: Device): Promise<Uint8Array> {
    const id = nextPreKeyId++;
    const now = Date.now();
    const [otk] = await p.generateOneTimePreKeys(crypto, id, 1);
    const kem = await p.generateKemPreKey(crypto, device.keys, id, false, now);
    device.oneTime.set(id, oneTimeCodec.encode(otk!));
    device.kem.set(id, kemCodec.encode(kem));
    const spk = signedCodec.decode(device.signed.get(1)!);
    return p.encodePreKeyBundle({
      certificate: device.keys.certificate,
      signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicKey, signature: spk.signature },
      oneTimePreKey: { id: otk!.id, publicKey: otk!.keyPair.publicKey },
      kemPreKey: { id: kem.id, publicKey: kem.keyPair.publicKey, signature: kem.signature },
    });
  }

  function prekeyStore(device: Device): PreKeyStore {
    const load = <T>(map: Map<number, Uint8Array>, codec: Codec<T>, id: number): T | undefined => {
      const bytes = map.get(id);
      return bytes === undefined ? undefined : codec.decode(bytes);
    };
    return {
      signedPreKey: async (id) => load(device.signed, signedCodec, id),
      oneTimePreKey: async (id) => load(device.oneTime, oneTimeCodec, id),
      kemPreKey: async (id) => load(device.kem, kemCodec, id),
    };
  }

  async function encrypt(from: Device, to: Device, plaintext: Uint8Array) {
    const stored = from.sessions.get(to.name);
    if (stored === undefined) throw new Error('pigeon bench: no stored session');
    const { record, message } = await p.sessionEncrypt(crypto, p.decodeSessionRecord(stored), plaintext, Date.now());
    from.sessions.set(to.name, p.encodeSessionRecord(record));
    return message;
  }

  async function decrypt(at: Device, from: Device, message: Awaited<ReturnType<typeof encrypt>>): Promise<Uint8Array> {
    const stored = at.sessions.get(from.name);
    const record = stored === undefined ? undefined : p.decodeSessionRecord(stored);
    const result = await p.sessionDecrypt(crypto, at.keys, record, prekeyStore(at), from.keys.certificate as DeviceCertificate, message, Date.now());
    // The app persists the record and deletes consumed one-time prekeys together.
    at.sessions.set(from.name, p.encodeSessionRecord(result.record));
    if (result.consumed.oneTimePreKeyId !== null) at.oneTime.delete(result.consumed.oneTimePreKeyId);
    if (result.consumed.kemOneTimePreKeyId !== null) at.kem.delete(result.consumed.kemOneTimePreKeyId);
    return result.plaintext;
  }

  async function establish(alice: Device, bob: Device): Promise<Clocked> {
    const relay = new Map<string, Uint8Array>([[bob.name, await publishBundle(bob)]]);
    const plaintext = nextPlaintext();
    const stop = startClock();
    const bundle = p.decodePreKeyBundle(relay.get(bob.name)!);
    const stored = alice.sessions.get(bob.name);
    const record = await p.initiateSession(crypto, alice.keys, stored === undefined ? undefined : p.decodeSessionRecord(stored), bundle, Date.now());
    alice.sessions.set(bob.name, p.encodeSessionRecord(record));
    const first = await encrypt(alice, bob, plaintext);
    const received = await decrypt(bob, alice, first);
    const elapsed = stop();
    assertSameBytes(plaintext, received, `${name} setup`);
    if (first.kind !== 'prekey') throw new Error(`${name}: first message is not a prekey message`);
    return elapsed;
  }

  let responder: Promise<Device> | undefined;
  return {
    name,
    async setup() {
      // A new initiator each time (a new contact), the same long-lived responder with a fresh bundle.
      responder ??= newDevice();
      return establish(await newDevice(), await responder);
    },
    async newConversation(): Promise<Conversation> {
      const a = await newDevice();
      const b = await newDevice();
      await establish(a, b);
      const reply = nextPlaintext();
      assertSameBytes(reply, await decrypt(a, b, await encrypt(b, a, reply)), `${name} first reply`);
      return {
        async oneWay(count) {
          const sent: Uint8Array[] = [];
          const wire: Awaited<ReturnType<typeof encrypt>>[] = [];
          for (let i = 0; i < count; i++) {
            const plaintext = nextPlaintext();
            sent.push(plaintext);
            wire.push(await encrypt(a, b, plaintext));
          }
          for (let i = 0; i < count; i++) assertSameBytes(sent[i]!, await decrypt(b, a, wire[i]!), `${name} one-way`);
        },
        async pingPong(count) {
          for (let i = 0; i < count; i++) {
            const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
            const plaintext = nextPlaintext();
            assertSameBytes(plaintext, await decrypt(to, from, await encrypt(from, to, plaintext)), `${name} ping-pong`);
          }
        },
      };
    },
  };
}
