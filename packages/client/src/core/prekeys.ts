/**
 * Prekeys (docs/protocol.md, X3DH/PQXDH prekeys): the first set a device registers with, the
 * top-up that keeps PREKEY_LOW_WATER..PREKEY_BATCH one-time prekeys at the relay, and the
 * PreKeyStore view the receive pipeline decrypts with. Private halves are stored before upload.
 */
import type { UploadPreKeysFrame } from '@pigeon/api';
import {
  decodeKemPreKey,
  decodeOneTimePreKey,
  decodeSignedPreKey,
  encodeKemPreKey,
  encodeOneTimePreKey,
  encodeSignedPreKey,
  generateKemPreKey,
  generateOneTimePreKeys,
  generateSignedPreKey,
} from '@pigeon/protocol';
import type { CryptoBackend } from '@pigeon/crypto';
import type { DeviceKeys, KemPreKeyPair, OneTimePreKeyPair, PreKeyStore, SignedPreKeyPair } from '@pigeon/protocol';
import { PREKEY_BATCH, PREKEY_LOW_WATER } from '../limits.js';
import type { ClientStore } from '../store/types.js';
import type { RelayConnection } from '../transport/relay-connection.js';
import { errorCode, expectOk } from './checks.js';
import type { ClientCore } from './context.js';
import { KEM_PREKEY_ID_STATE, ONE_TIME_PREKEY_ID_STATE } from './prekey-ids.js';
import { maintainSignedPreKeys } from './prekey-rotation.js';

/** Next ids to hand out, kept in the state table. */
export { ONE_TIME_PREKEY_ID_STATE, KEM_PREKEY_ID_STATE } from './prekey-ids.js';

/** What a new device registers with: a signed prekey, PREKEY_BATCH one-time and KEM prekeys, a KEM last resort. */
export interface InitialPreKeys {
  readonly signed: SignedPreKeyPair;
  readonly oneTime: readonly OneTimePreKeyPair[];
  readonly kems: readonly KemPreKeyPair[];
  readonly lastResort: KemPreKeyPair;
}

export async function generateInitialPreKeys(c: CryptoBackend, device: DeviceKeys, now: number): Promise<InitialPreKeys> {
  const signed = await generateSignedPreKey(c, device, 1, now);
  const oneTime = await generateOneTimePreKeys(c, 1, PREKEY_BATCH);
  const kems: KemPreKeyPair[] = [];
  for (let id = 1; id <= PREKEY_BATCH; id++) kems.push(await generateKemPreKey(c, device, id, false, now));
  const lastResort = await generateKemPreKey(c, device, PREKEY_BATCH + 1, true, now);
  return { signed, oneTime, kems, lastResort };
}

export function initialUploadFrame(p: InitialPreKeys): Omit<UploadPreKeysFrame, 'id'> {
  return {
    type: 'upload_prekeys',
    signedPreKey: { id: p.signed.id, publicKey: p.signed.keyPair.publicKey, signature: p.signed.signature },
    kemLastResortPreKey: { id: p.lastResort.id, publicKey: p.lastResort.keyPair.publicKey, signature: p.lastResort.signature },
    oneTimePreKeys: p.oneTime.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey })),
    kemOneTimePreKeys: p.kems.map((k) => ({ id: k.id, publicKey: k.keyPair.publicKey, signature: k.signature })),
  };
}

/** Must run inside a store transaction (with the identity row). */
export function putInitialPreKeys(store: ClientStore, p: InitialPreKeys): void {
  store.putPreKey('signed', p.signed.id, encodeSignedPreKey(p.signed));
  for (const k of p.oneTime) store.putPreKey('one_time', k.id, encodeOneTimePreKey(k));
  for (const k of p.kems) store.putPreKey('kem', k.id, encodeKemPreKey(k));
  store.putPreKey('kem', p.lastResort.id, encodeKemPreKey(p.lastResort));
  store.setState(ONE_TIME_PREKEY_ID_STATE, String(PREKEY_BATCH + 1));
  store.setState(KEM_PREKEY_ID_STATE, String(PREKEY_BATCH + 2));
}

/**
 * Prekey upkeep: rotates the signed pair when due (prekey-rotation.ts), then keeps enough one-time
 * prekeys at the relay; private halves are stored before the upload. Runs on every connect and every
 * PREKEY_CHECK_INTERVAL_MS.
 */
export function topUpPreKeys(core: ClientCore): Promise<void> {
  const conn = core.auth;
  if (!conn || core.closed) return Promise.resolve();
  // One upkeep at a time (they share the prekey id counters); a caller arriving meanwhile waits for it.
  core.topUp ??= upkeep(core, conn).finally(() => {
    core.topUp = null;
  });
  return core.topUp;
}

async function upkeep(core: ClientCore, conn: RelayConnection): Promise<void> {
  try {
    await maintainSignedPreKeys(core, conn).catch((err: unknown) => core.log('prekeys.rotation_failed', { code: errorCode(err) }));
    const k = core.keys();
    const status = await conn.request({ type: 'prekey_status' });
    if (status.type !== 'prekey_status_result') return;
    const needOneTime = status.oneTimePreKeys < PREKEY_LOW_WATER ? PREKEY_BATCH - status.oneTimePreKeys : 0;
    const needKem = status.kemOneTimePreKeys < PREKEY_LOW_WATER ? PREKEY_BATCH - status.kemOneTimePreKeys : 0;
    if (needOneTime === 0 && needKem === 0) return;
    const firstOneTime = Number(core.store.getState(ONE_TIME_PREKEY_ID_STATE) ?? '1');
    const firstKem = Number(core.store.getState(KEM_PREKEY_ID_STATE) ?? '1');
    const oneTime = needOneTime > 0 ? await generateOneTimePreKeys(core.crypto, firstOneTime, needOneTime) : [];
    const kems: KemPreKeyPair[] = [];
    for (let i = 0; i < needKem; i++) kems.push(await generateKemPreKey(core.crypto, k.device, firstKem + i, false, core.now()));
    core.store.transaction(() => {
      for (const p of oneTime) core.store.putPreKey('one_time', p.id, encodeOneTimePreKey(p));
      for (const p of kems) core.store.putPreKey('kem', p.id, encodeKemPreKey(p));
      core.store.setState(ONE_TIME_PREKEY_ID_STATE, String(firstOneTime + needOneTime));
      core.store.setState(KEM_PREKEY_ID_STATE, String(firstKem + needKem));
    });
    expectOk(
      await conn.request({
        type: 'upload_prekeys',
        signedPreKey: null,
        kemLastResortPreKey: null,
        oneTimePreKeys: oneTime.map((p) => ({ id: p.id, publicKey: p.keyPair.publicKey })),
        kemOneTimePreKeys: kems.map((p) => ({ id: p.id, publicKey: p.keyPair.publicKey, signature: p.signature })),
      }),
      'upload_prekeys',
    );
    core.log('prekeys.topped_up', { oneTime: needOneTime, kem: needKem });
  } catch (err) {
    core.log('prekeys.top_up_failed', { code: errorCode(err) });
  }
}

/** The private prekeys the protocol's sessionDecrypt looks up by id. */
export function preKeyStoreOf(store: ClientStore): PreKeyStore {
  return {
    signedPreKey: async (id) => {
      const b = store.getPreKey('signed', id);
      return b ? decodeSignedPreKey(b) : undefined;
    },
    oneTimePreKey: async (id) => {
      const b = store.getPreKey('one_time', id);
      return b ? decodeOneTimePreKey(b) : undefined;
    },
    kemPreKey: async (id) => {
      const b = store.getPreKey('kem', id);
      return b ? decodeKemPreKey(b) : undefined;
    },
  };
}
