/**
 * The comparison point: Signal's own libsignal-client (Rust core, Node bindings), used exactly
 * as a Signal app uses it: stores that hold serialized records, so every encrypt/decrypt pays
 * for SessionRecord.deserialize on load and record.serialize() on save.
 *
 * What 0.103 does per message (worth knowing when reading the numbers): PQXDH with a Kyber1024
 * prekey (required by PreKeyBundle.new), then the "triple ratchet": the classic Double Ratchet
 * plus SPQR, a sparse post-quantum ratchet whose KEM chunks ride in every SignalMessage
 * (SignalMessage.pqRatchet()). There is no opt-in flag any more in this version:
 * processPreKeyBundle takes no usePqRatchet argument.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  CiphertextMessageType,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KEMPublicKey,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  SessionStore,
  SignalMessage,
  SignedPreKeyRecord,
  SignedPreKeyStore,
  processPreKeyBundle,
  signalDecrypt,
  signalDecryptPreKey,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import type { Direction } from '@signalapp/libsignal-client';
import { assertSameBytes, nextPlaintext, startClock } from './contender.js';
import type { Clocked, Contender, Conversation } from './contender.js';

const DEVICE_ID = 1;

function addressKey(address: ProtocolAddress): string {
  return `${address.name()}.${address.deviceId()}`;
}

function missing(what: string, id: number | string): Error {
  return new Error(`libsignal store: no ${what} ${id}`);
}

/** Session records kept only as bytes: deserialize on load, serialize on save. */
class BytesSessionStore extends SessionStore {
  private readonly records = new Map<string, Uint8Array<ArrayBuffer>>();
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.records.set(addressKey(name), record.serialize());
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = this.records.get(addressKey(name));
    return bytes === undefined ? null : SessionRecord.deserialize(bytes);
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => {
      const bytes = this.records.get(addressKey(a));
      if (bytes === undefined) throw missing('session for', addressKey(a));
      return SessionRecord.deserialize(bytes);
    });
  }
}

/** Trust on first use, remote identities stored as bytes. */
class BytesIdentityStore extends IdentityKeyStore {
  private readonly identities = new Map<string, Uint8Array<ArrayBuffer>>();
  constructor(
    private readonly ours: IdentityKeyPair,
    private readonly registrationId: number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.ours.privateKey;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const k = addressKey(name);
    const old = this.identities.get(k);
    const bytes = key.serialize();
    this.identities.set(k, bytes);
    return old === undefined || PublicKey.deserialize(old).equals(key) ? IdentityChange.NewOrUnchanged : IdentityChange.ReplacedExisting;
  }
  async isTrustedIdentity(name: ProtocolAddress, key: PublicKey, _direction: Direction): Promise<boolean> {
    const old = this.identities.get(addressKey(name));
    return old === undefined || PublicKey.deserialize(old).equals(key);
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    const old = this.identities.get(addressKey(name));
    return old === undefined ? null : PublicKey.deserialize(old);
  }
}

class BytesPreKeyStore extends PreKeyStore {
  readonly records = new Map<number, Uint8Array<ArrayBuffer>>();
  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getPreKey(id: number): Promise<PreKeyRecord> {
    const bytes = this.records.get(id);
    if (bytes === undefined) throw missing('prekey', id);
    return PreKeyRecord.deserialize(bytes);
  }
  async removePreKey(id: number): Promise<void> {
    this.records.delete(id);
  }
}

class BytesSignedPreKeyStore extends SignedPreKeyStore {
  readonly records = new Map<number, Uint8Array<ArrayBuffer>>();
  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const bytes = this.records.get(id);
    if (bytes === undefined) throw missing('signed prekey', id);
    return SignedPreKeyRecord.deserialize(bytes);
  }
}

class BytesKyberPreKeyStore extends KyberPreKeyStore {
  readonly records = new Map<number, Uint8Array<ArrayBuffer>>();
  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record.serialize());
  }
  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const bytes = this.records.get(id);
    if (bytes === undefined) throw missing('kyber prekey', id);
    return KyberPreKeyRecord.deserialize(bytes);
  }
  async markKyberPreKeyUsed(id: number, _signedPreKeyId: number, _baseKey: PublicKey): Promise<void> {
    // One-time Kyber prekeys are deleted once used, as the one-time EC prekeys are.
    this.records.delete(id);
  }
}

/** What the in-memory relay holds for a device: public parts only, as bytes. */
interface PublishedBundle {
  readonly registrationId: number;
  readonly identityKey: Uint8Array<ArrayBuffer>;
  readonly preKeyId: number;
  readonly preKey: Uint8Array<ArrayBuffer>;
  readonly signedPreKeyId: number;
  readonly signedPreKey: Uint8Array<ArrayBuffer>;
  readonly signedPreKeySignature: Uint8Array<ArrayBuffer>;
  readonly kyberPreKeyId: number;
  readonly kyberPreKey: Uint8Array<ArrayBuffer>;
  readonly kyberPreKeySignature: Uint8Array<ArrayBuffer>;
}

class Device {
  readonly address: ProtocolAddress;
  readonly identity = IdentityKeyPair.generate();
  readonly registrationId = 1 + (randomBytes(2).readUInt16BE(0) % 16380);
  readonly sessions = new BytesSessionStore();
  readonly identities: BytesIdentityStore;
  readonly preKeys = new BytesPreKeyStore();
  readonly signedPreKeys = new BytesSignedPreKeyStore();
  readonly kyberPreKeys = new BytesKyberPreKeyStore();
  private nextPreKeyId = 1;
  private signedPreKeyId = 0;

  constructor() {
    this.address = ProtocolAddress.new(randomUUID(), DEVICE_ID);
    this.identities = new BytesIdentityStore(this.identity, this.registrationId);
  }

  /** Makes a fresh one-time EC prekey and one-time Kyber prekey and returns the bundle to publish. */
  publishBundle(): PublishedBundle {
    const now = Date.now();
    if (this.signedPreKeyId === 0) {
      this.signedPreKeyId = 1;
      const spk = PrivateKey.generate();
      const signature = this.identity.privateKey.sign(spk.getPublicKey().serialize());
      this.signedPreKeys.records.set(1, SignedPreKeyRecord.new(1, now, spk.getPublicKey(), spk, signature).serialize());
    }
    const id = this.nextPreKeyId++;
    const pk = PrivateKey.generate();
    this.preKeys.records.set(id, PreKeyRecord.new(id, pk.getPublicKey(), pk).serialize());
    const kyber = KEMKeyPair.generate();
    const kyberSignature = this.identity.privateKey.sign(kyber.getPublicKey().serialize());
    this.kyberPreKeys.records.set(id, KyberPreKeyRecord.new(id, now, kyber, kyberSignature).serialize());
    const spkRecord = SignedPreKeyRecord.deserialize(this.signedPreKeys.records.get(1)!);
    return {
      registrationId: this.registrationId,
      identityKey: this.identity.publicKey.serialize(),
      preKeyId: id,
      preKey: pk.getPublicKey().serialize(),
      signedPreKeyId: 1,
      signedPreKey: spkRecord.publicKey().serialize(),
      signedPreKeySignature: spkRecord.signature(),
      kyberPreKeyId: id,
      kyberPreKey: kyber.getPublicKey().serialize(),
      kyberPreKeySignature: kyberSignature,
    };
  }

  async encrypt(to: Device, plaintext: Uint8Array<ArrayBuffer>): Promise<{ type: number; bytes: Uint8Array<ArrayBuffer> }> {
    const m = await signalEncrypt(plaintext, to.address, this.address, this.sessions, this.identities);
    return { type: m.type(), bytes: m.serialize() };
  }

  async decrypt(from: Device, message: { type: number; bytes: Uint8Array<ArrayBuffer> }): Promise<Uint8Array<ArrayBuffer>> {
    if (message.type === CiphertextMessageType.PreKey) {
      return signalDecryptPreKey(
        PreKeySignalMessage.deserialize(message.bytes),
        from.address,
        this.address,
        this.sessions,
        this.identities,
        this.preKeys,
        this.signedPreKeys,
        this.kyberPreKeys,
      );
    }
    return signalDecrypt(SignalMessage.deserialize(message.bytes), from.address, this.address, this.sessions, this.identities);
  }
}

const message = nextPlaintext;

/** Fetches a bundle from the relay's bytes, as a client would after a network round trip. */
function bundleFrom(published: PublishedBundle): PreKeyBundle {
  return PreKeyBundle.new(
    published.registrationId,
    DEVICE_ID,
    published.preKeyId,
    PublicKey.deserialize(published.preKey),
    published.signedPreKeyId,
    PublicKey.deserialize(published.signedPreKey),
    published.signedPreKeySignature,
    PublicKey.deserialize(published.identityKey),
    published.kyberPreKeyId,
    KEMPublicKey.deserialize(published.kyberPreKey),
    published.kyberPreKeySignature,
  );
}

async function establish(alice: Device, bob: Device): Promise<Clocked> {
  const relay = new Map<string, PublishedBundle>([[bob.address.name(), bob.publishBundle()]]);
  const plaintext = message();
  const stop = startClock();
  const fetched = relay.get(bob.address.name())!;
  await processPreKeyBundle(bundleFrom(fetched), bob.address, alice.address, alice.sessions, alice.identities);
  const first = await alice.encrypt(bob, plaintext);
  const received = await bob.decrypt(alice, first);
  const elapsed = stop();
  assertSameBytes(plaintext, received, 'libsignal setup');
  if (first.type !== CiphertextMessageType.PreKey) throw new Error('libsignal: first message is not a prekey message');
  return elapsed;
}

export function createLibsignalContender(): Contender {
  const responder = new Device();
  return {
    name: 'libsignal-client 0.103',
    async setup() {
      // A new initiator each time (a new contact), the same long-lived responder with a fresh bundle.
      return establish(new Device(), responder);
    },
    async newConversation(): Promise<Conversation> {
      const a = new Device();
      const b = new Device();
      await establish(a, b);
      const reply = message();
      assertSameBytes(reply, await a.decrypt(b, await b.encrypt(a, reply)), 'libsignal first reply');
      return {
        async oneWay(count) {
          const sent: Uint8Array<ArrayBuffer>[] = [];
          const wire: { type: number; bytes: Uint8Array<ArrayBuffer> }[] = [];
          for (let i = 0; i < count; i++) {
            const p = message();
            sent.push(p);
            wire.push(await a.encrypt(b, p));
          }
          for (let i = 0; i < count; i++) assertSameBytes(sent[i]!, await b.decrypt(a, wire[i]!), 'libsignal one-way');
        },
        async pingPong(count) {
          for (let i = 0; i < count; i++) {
            const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
            const p = message();
            assertSameBytes(p, await to.decrypt(from, await from.encrypt(to, p)), 'libsignal ping-pong');
          }
        },
      };
    },
  };
}
