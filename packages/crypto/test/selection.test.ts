/** Backend selection at run time. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as nodeEntry from '../src/index.node.js';
import * as neutralEntry from '../src/index.js';

describe('backend selection', () => {
  it('Node default is the node:crypto backend, and it is memoised', () => {
    assert.equal(nodeEntry.defaultBackend().name, 'node');
    assert.equal(nodeEntry.defaultBackend(), nodeEntry.defaultBackend());
  });

  it('selectBrowserBackend picks WebCrypto when crypto.subtle exists (Node 20 has it)', async () => {
    assert.equal((await neutralEntry.selectBrowserBackend()).name, 'webcrypto');
  });

  it('selectBrowserBackend falls back to noble without crypto.subtle', async () => {
    const original = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
    Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
    try {
      assert.equal((await neutralEntry.selectBrowserBackend()).name, 'noble');
      assert.throws(() => neutralEntry.createWebCryptoBackend(), (e: unknown) => e instanceof neutralEntry.CryptoError);
    } finally {
      if (original) Object.defineProperty(globalThis, 'crypto', original);
    }
  });

  it('the two entries export the same API, plus createNodeBackend on Node', () => {
    const neutral = Object.keys(neutralEntry).sort();
    const node = Object.keys(nodeEntry).filter((k) => k !== 'createNodeBackend').sort();
    assert.deepEqual(node, neutral);
    assert.equal(typeof nodeEntry.createNodeBackend, 'function');
  });
});
