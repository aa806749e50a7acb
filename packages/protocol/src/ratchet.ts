/**
 * Double Ratchet steps on one SessionState (Signal Double Ratchet spec, sections 3.3-3.5),
 * written as pure functions: decryption computes a candidate state and returns it only
 * after AES-GCM authenticated the message (vodozemac's rule), so a forged, replayed or
 * truncated message can never advance, rewind or pollute a session.
 */
import { CryptoError, concatBytes, equalBytes } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { MAX_RECEIVER_CHAINS, MAX_SKIP, MAX_SKIPPED_KEYS, MAX_SKIPPED_KEY_AGE_MS } from './constants.js';
import { ProtocolError } from './errors.js';
import { encodeWhisperHeader } from './messages.js';
import type { WhisperMessage } from './messages.js';
import { expandMessageKey, kdfRootKey, messageKeyOf, nextChainKey, wipeAeadKeys } from './ratchet-kdf.js';
import type { SessionState, SkippedKey } from './session-state.js';
import { protectKeyPair } from './redact.js';

const MAX_COUNTER = 0xffffffff;

/** RatchetEncrypt: one message on the sending chain. `padded` is already padded. */
export async function ratchetEncrypt(
  crypto: CryptoBackend,
  state: SessionState,
  padded: Uint8Array,
): Promise<{ state: SessionState; whisper: Uint8Array }> {
  if (state.sendingIndex >= MAX_COUNTER) throw new ProtocolError('BAD_FIELD', 'sending chain exhausted');
  const messageKey = await messageKeyOf(crypto, state.sendingChainKey);
  const chainKey = await nextChainKey(crypto, state.sendingChainKey);
  const header = encodeWhisperHeader(state.sendingRatchet.publicKey, state.previousCounter, state.sendingIndex);
  const keys = await expandMessageKey(crypto, messageKey);
  const ciphertext = await crypto.aes256GcmEncrypt(keys.key, keys.nonce, padded, concatBytes(state.ad, header));
  wipeAeadKeys(keys);
  messageKey.fill(0);
  return {
    state: { ...state, sendingChainKey: chainKey, sendingIndex: state.sendingIndex + 1 },
    whisper: concatBytes(header, ciphertext),
  };
}

async function open(crypto: CryptoBackend, state: SessionState, messageKey: Uint8Array, msg: WhisperMessage): Promise<Uint8Array> {
  const keys = await expandMessageKey(crypto, messageKey);
  try {
    return await crypto.aes256GcmDecrypt(keys.key, keys.nonce, msg.ciphertext, concatBytes(state.ad, msg.header));
  } catch (cause) {
    throw new ProtocolError('DECRYPT_FAILED', 'message did not authenticate', { cause });
  } finally {
    wipeAeadKeys(keys);
  }
}

interface ChainWalk {
  /** Key of message `to`, or null when only skipping. */
  readonly messageKey: Uint8Array | null;
  /** Chain key after the walk (for index `to + 1`, or `to` when only skipping). */
  readonly chainKey: Uint8Array;
  readonly skipped: SkippedKey[];
}

/**
 * Walks a receiving chain from `from` to `to`, keeping the keys of the messages in between
 * (only the newest MAX_SKIPPED_KEYS of them: older ones would be evicted at once anyway,
 * so their message keys are never computed).
 */
async function walkChain(
  crypto: CryptoBackend,
  chainKey: Uint8Array,
  from: number,
  to: number,
  ratchetKey: Uint8Array,
  now: number,
  wantMessageKey: boolean,
): Promise<ChainWalk> {
  const skipped: SkippedKey[] = [];
  const keepFrom = Math.max(from, to - MAX_SKIPPED_KEYS);
  let ck = chainKey;
  for (let i = from; i < to; i++) {
    if (i >= keepFrom) skipped.push({ ratchetKey, index: i, messageKey: await messageKeyOf(crypto, ck), createdAt: now });
    ck = await nextChainKey(crypto, ck);
  }
  if (!wantMessageKey) return { messageKey: null, chainKey: ck, skipped };
  const messageKey = await messageKeyOf(crypto, ck);
  return { messageKey, chainKey: await nextChainKey(crypto, ck), skipped };
}

function appendSkipped(live: readonly SkippedKey[], added: readonly SkippedKey[]): readonly SkippedKey[] {
  if (added.length === 0) return live;
  const all = live.concat(added);
  return all.length > MAX_SKIPPED_KEYS ? all.slice(all.length - MAX_SKIPPED_KEYS) : all;
}

function liveSkippedKeys(skipped: readonly SkippedKey[], now: number): readonly SkippedKey[] {
  // Expiry: a key older than MAX_SKIPPED_KEY_AGE_MS is gone. (Keys from the "future", e.g. after
  // a clock change, are kept: dropping them would lose messages for a local clock error.)
  for (const k of skipped) if (now - k.createdAt > MAX_SKIPPED_KEY_AGE_MS) return skipped.filter((s) => now - s.createdAt <= MAX_SKIPPED_KEY_AGE_MS);
  return skipped;
}

async function dh(crypto: CryptoBackend, secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array> {
  try {
    return await crypto.x25519(secretKey, publicKey);
  } catch (cause) {
    if (cause instanceof CryptoError) throw new ProtocolError('DECRYPT_FAILED', 'bad ratchet key', { cause });
    throw cause;
  }
}

/**
 * RatchetDecrypt with skipped keys (spec section 3.5). Returns the padded plaintext and the
 * candidate state; throws DUPLICATE_MESSAGE, TOO_MANY_SKIPPED or DECRYPT_FAILED otherwise.
 */
export async function ratchetDecrypt(
  crypto: CryptoBackend,
  state: SessionState,
  msg: WhisperMessage,
  now: number,
): Promise<{ state: SessionState; padded: Uint8Array }> {
  const live = liveSkippedKeys(state.skipped, now);

  // 1. A key skipped earlier (TrySkippedMessageKeys).
  for (let i = 0; i < live.length; i++) {
    const k = live[i]!;
    if (k.index === msg.counter && equalBytes(k.ratchetKey, msg.ratchetKey)) {
      const padded = await open(crypto, state, k.messageKey, msg);
      const skipped = live.slice(0, i).concat(live.slice(i + 1));
      return { state: { ...state, skipped, pending: null }, padded };
    }
  }

  // 2. A chain we already know.
  const chainIndex = state.receivingChains.findIndex((c) => equalBytes(c.ratchetKey, msg.ratchetKey));
  if (chainIndex >= 0) {
    const chain = state.receivingChains[chainIndex]!;
    if (msg.counter < chain.index) throw new ProtocolError('DUPLICATE_MESSAGE', 'message key already used or dropped');
    if (msg.counter - chain.index > MAX_SKIP) throw new ProtocolError('TOO_MANY_SKIPPED', 'forward jump above MAX_SKIP');
    const walk = await walkChain(crypto, chain.chainKey, chain.index, msg.counter, chain.ratchetKey, now, true);
    const padded = await open(crypto, state, walk.messageKey!, msg);
    const receivingChains = state.receivingChains.slice();
    receivingChains[chainIndex] = { ratchetKey: chain.ratchetKey, chainKey: walk.chainKey, index: msg.counter + 1 };
    return { state: { ...state, receivingChains, skipped: appendSkipped(live, walk.skipped), pending: null }, padded };
  }

  // 3. A new ratchet key from the peer: DHRatchet (spec section 3.5).
  const current = state.receivingChains[0];
  if (msg.counter > MAX_SKIP) throw new ProtocolError('TOO_MANY_SKIPPED', 'forward jump above MAX_SKIP');
  let oldChainSkipped: SkippedKey[] = [];
  if (current !== undefined && msg.previousCounter > current.index) {
    if (msg.previousCounter - current.index > MAX_SKIP) throw new ProtocolError('TOO_MANY_SKIPPED', 'forward jump above MAX_SKIP');
    oldChainSkipped = (await walkChain(crypto, current.chainKey, current.index, msg.previousCounter, current.ratchetKey, now, false)).skipped;
  }
  const ratchetKey = msg.ratchetKey.slice();
  const receiveDh = await dh(crypto, state.sendingRatchet.secretKey, ratchetKey);
  const [rootAfterReceive, receiveChainKey] = await kdfRootKey(crypto, state.rootKey, receiveDh);
  receiveDh.fill(0);
  const walk = await walkChain(crypto, receiveChainKey, 0, msg.counter, ratchetKey, now, true);
  const padded = await open(crypto, state, walk.messageKey!, msg);

  // Authenticated: only now pay for the sending half of the step (new key pair, second DH).
  const sendingRatchet = protectKeyPair(await crypto.x25519GenerateKeyPair());
  const sendDh = await dh(crypto, sendingRatchet.secretKey, ratchetKey);
  const [rootKey, sendingChainKey] = await kdfRootKey(crypto, rootAfterReceive, sendDh);
  sendDh.fill(0);
  const receivingChains = [{ ratchetKey, chainKey: walk.chainKey, index: msg.counter + 1 }, ...state.receivingChains].slice(
    0,
    MAX_RECEIVER_CHAINS,
  );
  return {
    state: {
      ...state,
      rootKey,
      sendingRatchet,
      sendingChainKey,
      sendingIndex: 0,
      previousCounter: state.sendingIndex,
      receivingChains,
      skipped: appendSkipped(appendSkipped(live, oldChainSkipped), walk.skipped),
      pending: null,
    },
    padded,
  };
}
