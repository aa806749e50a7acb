/** createSha256: both implementations agree with the one-shot digest, whatever the piece sizes. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createSha256 as nobleSha256 } from '../src/incremental-hash.js';
import { createSha256 as nodeSha256 } from '../src/incremental-hash.node.js';
import { createSha256 } from '../src/index.node.js';

describe('createSha256', () => {
  it('matches FIPS 180-4 "abc" and the one-shot digest of data fed in uneven pieces', () => {
    for (const make of [nobleSha256, nodeSha256]) {
      const abc = make();
      abc.update(Uint8Array.of(0x61, 0x62));
      abc.update(Uint8Array.of(0x63));
      assert.equal(Buffer.from(abc.digest()).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      const data = randomBytes(200_003);
      const h = make();
      for (let at = 0, step = 1; at < data.length; at += step, step = (step * 7 + 3) % 65_537) h.update(data.subarray(at, at + step));
      const digest = h.digest();
      assert.equal(Object.getPrototypeOf(digest), Uint8Array.prototype);
      assert.deepEqual(Buffer.from(digest), createHash('sha256').update(data).digest());
    }
  });

  it('the Node entry gives the node:crypto one', () => {
    assert.equal(createSha256, nodeSha256);
  });
});
