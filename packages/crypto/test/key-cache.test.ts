/**
 * The node:crypto backend keeps KeyObjects of recently used keys and remembers successful
 * Ed25519 verifications (backend-node.node.ts). Caching must never change a result: every
 * answer here is compared with a fresh noble backend, across mutation, eviction and near-misses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedLru } from '../src/bounded-lru.js';
import {
  MAX_CACHED_PRIVATE_KEYS,
  MAX_CACHED_PUBLIC_KEYS,
  MAX_CACHED_VERIFICATIONS,
  createNodeBackend,
} from '../src/backend-node.node.js';
import { createNobleBackend, toHex } from '../src/index.node.js';

const noble = createNobleBackend();

describe('BoundedLru', () => {
  it('never holds more than its capacity and evicts the least recently used entry', () => {
    const lru = new BoundedLru<number>(3);
    lru.set('a', 1);
    lru.set('b', 2);
    lru.set('c', 3);
    assert.equal(lru.get('a'), 1); // a is now the most recent
    lru.set('d', 4);
    assert.equal(lru.size, 3);
    assert.equal(lru.get('b'), undefined, 'b was the least recently used');
    assert.equal(lru.get('a'), 1);
    assert.equal(lru.get('c'), 3);
    assert.equal(lru.get('d'), 4);
    lru.set('d', 5); // overwrite keeps the size
    assert.equal(lru.size, 3);
    assert.equal(lru.get('d'), 5);
    lru.clear();
    assert.equal(lru.size, 0);
  });
});

describe('node backend key caches', () => {
  it('limits are named, positive, and the private one stays small', () => {
    assert.ok(MAX_CACHED_PRIVATE_KEYS > 0 && MAX_CACHED_PRIVATE_KEYS <= 64);
    assert.ok(MAX_CACHED_PUBLIC_KEYS > 0);
    assert.ok(MAX_CACHED_VERIFICATIONS > 0);
  });

  it('X25519 follows the bytes, not the array: a changed or wiped secret is not served from the cache', async () => {
    const node = createNodeBackend();
    const peer = await noble.x25519GenerateKeyPair();
    const secret = (await node.x25519GenerateKeyPair()).secretKey;
    assert.equal(toHex(await node.x25519(secret, peer.publicKey)), toHex(await noble.x25519(secret, peer.publicKey)));
    secret[0] = secret[0]! ^ 0x40; // same array object, different key
    assert.equal(toHex(await node.x25519(secret, peer.publicKey)), toHex(await noble.x25519(secret, peer.publicKey)));
    assert.equal(toHex(await node.x25519PublicKey(secret)), toHex(await noble.x25519PublicKey(secret)));
    secret.fill(1);
    assert.equal(toHex(await node.x25519(secret, peer.publicKey)), toHex(await noble.x25519(secret, peer.publicKey)));
  });

  it('results stay right past the cache bounds (eviction) and for reused keys', async () => {
    const node = createNodeBackend();
    const pairs = await Promise.all(Array.from({ length: MAX_CACHED_PRIVATE_KEYS + 5 }, () => noble.x25519GenerateKeyPair()));
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < pairs.length; i++) {
        const a = pairs[i]!;
        const b = pairs[(i + 1) % pairs.length]!;
        assert.equal(toHex(await node.x25519(a.secretKey, b.publicKey)), toHex(await noble.x25519(a.secretKey, b.publicKey)));
      }
    }
  });

  it('Ed25519: a remembered success answers only for the exact key, message and signature', async () => {
    const node = createNodeBackend();
    const signer = await noble.ed25519GenerateKeyPair();
    const other = await noble.ed25519GenerateKeyPair();
    const message = new Uint8Array(200).fill(7);
    const signature = await noble.ed25519Sign(signer.secretKey, message);
    assert.equal(await node.ed25519Verify(signer.publicKey, message, signature), true);
    assert.equal(await node.ed25519Verify(signer.publicKey, message, signature), true); // from memory
    const changedMessage = message.slice();
    changedMessage[199] = 8;
    assert.equal(await node.ed25519Verify(signer.publicKey, changedMessage, signature), false);
    assert.equal(await node.ed25519Verify(signer.publicKey, message.subarray(0, 199), signature), false);
    const changedSignature = signature.slice();
    changedSignature[0] = changedSignature[0]! ^ 1;
    assert.equal(await node.ed25519Verify(signer.publicKey, message, changedSignature), false);
    assert.equal(await node.ed25519Verify(other.publicKey, message, signature), false);
    // Mutating the caller's arrays after a success must not keep it "verified".
    message[0] = 9;
    assert.equal(await node.ed25519Verify(signer.publicKey, message, signature), false);
  });

  it('Ed25519 signing follows the seed bytes', async () => {
    const node = createNodeBackend();
    const seed = (await noble.ed25519GenerateKeyPair()).secretKey.slice();
    const message = new Uint8Array([1, 2, 3]);
    assert.equal(toHex(await node.ed25519Sign(seed, message)), toHex(await noble.ed25519Sign(seed, message)));
    seed[5] = seed[5]! ^ 0xff;
    assert.equal(toHex(await node.ed25519Sign(seed, message)), toHex(await noble.ed25519Sign(seed, message)));
    assert.equal(toHex(await node.ed25519PublicKey(seed)), toHex(await noble.ed25519PublicKey(seed)));
  });
});
