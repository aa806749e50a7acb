import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RelayServerError } from '../src/errors.js';
import { canonicalShardSet, defaultShardName, MAX_SHARDS, parseShardList, ShardRouter } from '../src/store/postgres-sharding.js';

const key = (i: number): Uint8Array => new Uint8Array(createHash('sha256').update(`key ${i}`).digest().subarray(0, 16));
const isBadOption = (e: unknown) => e instanceof RelayServerError && e.code === 'BAD_OPTION';

describe('postgres shard list parsing', () => {
  it('splits a comma-separated list only where a new URL starts', () => {
    const shards = parseShardList('postgres://u:p%2Cq@a:5433/db1, postgresql://b/db2?sslmode=disable&application_name=x,y');
    assert.deepStrictEqual(shards, [
      { url: 'postgres://u:p%2Cq@a:5433/db1', name: 'a:5433/db1' },
      { url: 'postgresql://b/db2?sslmode=disable&application_name=x,y', name: 'b:5432/db2' },
    ]);
  });

  it('takes a shard name from ?shard= (and strips it) or from a spec, never from credentials', () => {
    assert.deepStrictEqual(parseShardList('postgres://u:secret@h/db?shard=eu-1'), [{ url: 'postgres://u:secret@h/db', name: 'eu-1' }]);
    assert.deepStrictEqual(parseShardList('postgres://h/db?sslmode=require&shard=eu%202'), [{ url: 'postgres://h/db?sslmode=require', name: 'eu 2' }]);
    assert.deepStrictEqual(parseShardList([{ url: 'postgres://h/db', name: 'x' }, 'postgres://h/db2']), [
      { url: 'postgres://h/db', name: 'x' },
      { url: 'postgres://h/db2', name: 'h:5432/db2' },
    ]);
    assert.equal(defaultShardName('postgres://user:pw@[::1]:6000/d'), '[::1]:6000/d');
    assert.equal(defaultShardName('postgres:///d'), 'localhost:5432/d');
    assert.ok(!defaultShardName('postgres://user:pw@h/d').includes('pw'));
  });

  it('refuses empty, foreign, duplicate and oversized lists', () => {
    assert.throws(() => parseShardList(''), isBadOption);
    assert.throws(() => parseShardList([]), isBadOption);
    assert.throws(() => parseShardList('mysql://h/db'), isBadOption);
    assert.throws(() => parseShardList(['postgres://h/db', 42 as unknown as string]), isBadOption);
    assert.throws(() => parseShardList('postgres://h/db,postgres://h:5432/db'), isBadOption);
    assert.throws(() => parseShardList([{ url: 'postgres://h/db', name: '' }]), isBadOption);
    const many = Array.from({ length: MAX_SHARDS + 1 }, (_, i) => `postgres://h/db${i}`);
    assert.throws(() => parseShardList(many), isBadOption);
    assert.equal(parseShardList(many.slice(0, MAX_SHARDS)).length, MAX_SHARDS);
  });
});

describe('rendezvous shard routing', () => {
  const names = ['a:5432/p', 'b:5432/p', 'c:5432/p'];

  it('is deterministic and independent of list order', () => {
    const r1 = new ShardRouter(names);
    const r2 = new ShardRouter([...names].reverse());
    for (let i = 0; i < 200; i++) assert.equal(r2.names[r2.shardOf(key(i))], r1.names[r1.shardOf(key(i))]);
    assert.deepStrictEqual(canonicalShardSet([...names].reverse()), names);
  });

  it('spreads keys over every shard', () => {
    const r = new ShardRouter(names);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[r.shardOf(key(i))]!++;
    // Expected 1000 each; a hash this bad would need to be broken, not unlucky.
    for (const c of counts) assert.ok(c > 800 && c < 1200, `counts ${counts.join(',')}`);
  });

  it('adding a shard moves only the keys the new shard wins', () => {
    const before = new ShardRouter(names);
    const after = new ShardRouter([...names, 'd:5432/p']);
    let moved = 0;
    for (let i = 0; i < 2000; i++) {
      const was = before.names[before.shardOf(key(i))];
      const now = after.names[after.shardOf(key(i))];
      if (was !== now) {
        assert.equal(now, 'd:5432/p');
        moved++;
      }
    }
    assert.ok(moved > 350 && moved < 650, `moved ${moved} of 2000`);
  });

  it('one shard takes everything', () => {
    const r = new ShardRouter(['only']);
    assert.equal(r.shardOf(key(1)), 0);
    assert.equal(r.shardOf(new Uint8Array(0)), 0);
    assert.throws(() => new ShardRouter([]), isBadOption);
  });
});
