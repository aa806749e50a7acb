/**
 * Signed prekey rotation (docs/protocol.md, "Prekeys"): every SIGNED_PREKEY_ROTATE_MS the device
 * makes a new signed X25519 prekey and a new signed ML-KEM last-resort prekey and uploads both (the
 * relay replaces the ones it serves). The replaced private halves are kept RETIRED_PREKEY_KEEP_MS,
 * because a session started from the old bundle can arrive much later (offline recipient, the
 * sender's outbox), then deleted, which is what gives rotation its forward secrecy.
 *
 * Crash safety: the new keys are stored (with "not uploaded yet") before the upload; the next check
 * uploads a stored-but-not-uploaded pair again, so a lost upload never leaves the relay serving a
 * key we are about to forget (retired keys outlive any upload retry by weeks).
 */
import { decodeSignedPreKey, encodeKemPreKey, encodeSignedPreKey, decodeKemPreKey, generateKemPreKey, generateSignedPreKey } from '@pigeon/protocol';
import { PREKEY_BATCH, RETIRED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS } from '../limits.js';
import type { ClientStore } from '../store/types.js';
import { expectOk } from './checks.js';
import { KEM_PREKEY_ID_STATE } from './prekey-ids.js';
import type { ClientCore } from './context.js';
import type { RelayConnection } from '../transport/relay-connection.js';

/** Id of the signed prekey the relay should be serving (a missing row = the first one, id 1). */
export const CURRENT_SIGNED_PREKEY_STATE = 'current_signed_prekey_id';
/** Id of the ML-KEM last-resort prekey the relay should be serving (missing = PREKEY_BATCH + 1). */
export const CURRENT_LAST_RESORT_STATE = 'current_kem_last_resort_id';
/** 'signed/kem' ids of the current pair once the relay accepted them (missing = the first pair, uploaded at init). */
export const UPLOADED_PAIR_STATE = 'uploaded_signed_prekey_pair';
/** JSON list of replaced prekeys and when they were replaced: deleted after RETIRED_PREKEY_KEEP_MS. */
export const RETIRED_PREKEYS_STATE = 'retired_prekeys';

interface Retired {
  readonly kind: 'signed' | 'kem';
  readonly id: number;
  readonly at: number;
}

export interface CurrentPair {
  readonly signedId: number;
  readonly lastResortId: number;
}

export function currentPair(store: ClientStore): CurrentPair {
  return {
    signedId: Number(store.getState(CURRENT_SIGNED_PREKEY_STATE) ?? '1'),
    lastResortId: Number(store.getState(CURRENT_LAST_RESORT_STATE) ?? String(PREKEY_BATCH + 1)),
  };
}

const pairLabel = (p: CurrentPair): string => `${p.signedId}/${p.lastResortId}`;

function retiredList(store: ClientStore): Retired[] {
  const raw = store.getState(RETIRED_PREKEYS_STATE);
  if (!raw) return [];
  try {
    const parsed = JSON.parse(raw) as unknown;
    return Array.isArray(parsed) ? (parsed as Retired[]).filter((r) => (r.kind === 'signed' || r.kind === 'kem') && Number.isSafeInteger(r.id)) : [];
  } catch {
    return [];
  }
}

/**
 * Rotates when due, uploads a pair the relay has not accepted yet, and forgets retired keys past
 * their keep time. Returns what it did (for logs and tests). Never throws for a refused upload:
 * the caller logs, and the next check retries.
 */
export async function maintainSignedPreKeys(core: ClientCore, conn: RelayConnection): Promise<'rotated' | 'uploaded' | 'current'> {
  const store = core.store;
  const now = core.now();
  const k = core.keys();
  let pair = currentPair(store);
  const signedBytes = store.getPreKey('signed', pair.signedId);
  const createdAt = signedBytes ? decodeSignedPreKey(signedBytes).createdAt : 0;
  let rotated = false;
  if (!signedBytes || now - createdAt >= SIGNED_PREKEY_ROTATE_MS) {
    const signed = await generateSignedPreKey(core.crypto, k.device, pair.signedId + 1, now);
    const lastResortId = Number(store.getState(KEM_PREKEY_ID_STATE) ?? String(PREKEY_BATCH + 2));
    const lastResort = await generateKemPreKey(core.crypto, k.device, lastResortId, true, now);
    const old = pair;
    pair = { signedId: signed.id, lastResortId };
    store.transaction(() => {
      store.putPreKey('signed', signed.id, encodeSignedPreKey(signed));
      store.putPreKey('kem', lastResort.id, encodeKemPreKey(lastResort));
      store.setState(KEM_PREKEY_ID_STATE, String(lastResortId + 1));
      store.setState(CURRENT_SIGNED_PREKEY_STATE, String(signed.id));
      store.setState(CURRENT_LAST_RESORT_STATE, String(lastResortId));
      const retired = retiredList(store);
      if (signedBytes) retired.push({ kind: 'signed', id: old.signedId, at: now });
      if (store.getPreKey('kem', old.lastResortId)) retired.push({ kind: 'kem', id: old.lastResortId, at: now });
      store.setState(RETIRED_PREKEYS_STATE, JSON.stringify(retired));
    });
    rotated = true;
  }
  forgetRetired(store, now);
  const uploaded = store.getState(UPLOADED_PAIR_STATE);
  const initialPair = uploaded === undefined && pair.signedId === 1;
  if (uploaded === pairLabel(pair) || initialPair) return 'current';
  const signed = decodeSignedPreKey(store.getPreKey('signed', pair.signedId)!);
  const lastResort = decodeKemPreKey(store.getPreKey('kem', pair.lastResortId)!);
  expectOk(
    await conn.request({
      type: 'upload_prekeys',
      signedPreKey: { id: signed.id, publicKey: signed.keyPair.publicKey, signature: signed.signature },
      kemLastResortPreKey: { id: lastResort.id, publicKey: lastResort.keyPair.publicKey, signature: lastResort.signature },
      oneTimePreKeys: [],
      kemOneTimePreKeys: [],
    }),
    'upload_prekeys',
  );
  store.transaction(() => store.setState(UPLOADED_PAIR_STATE, pairLabel(pair)));
  core.log('prekeys.signed_rotated', { signedId: pair.signedId, rotated });
  return rotated ? 'rotated' : 'uploaded';
}

/** Deletes retired prekeys older than RETIRED_PREKEY_KEEP_MS (never the current pair). */
function forgetRetired(store: ClientStore, now: number): void {
  const retired = retiredList(store);
  const keep = retired.filter((r) => now - r.at < RETIRED_PREKEY_KEEP_MS);
  if (keep.length === retired.length) return;
  const current = currentPair(store);
  store.transaction(() => {
    for (const r of retired) {
      if (keep.includes(r)) continue;
      if (r.kind === 'signed' && r.id === current.signedId) continue;
      if (r.kind === 'kem' && r.id === current.lastResortId) continue;
      store.deletePreKey(r.kind, r.id);
    }
    store.setState(RETIRED_PREKEYS_STATE, JSON.stringify(keep));
  });
}
