/** Group state: signed changes, permissions, stale/replayed/forged changes, limits, fork choice and convergence. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultBackend, equalBytes, toHex } from '@pigeon/crypto';
import {
  MAX_GROUP_MEMBERS,
  MAX_GROUP_REORG_DEPTH,
  ProtocolError,
  applyGroupChange,
  createAccountKeys,
  createGroup,
  createGroupChange,
  decodeGroupChange,
  decodeGroupState,
  encodeGroupChange,
  encodeGroupRoster,
  encodeGroupState,
  groupChangeHash,
  groupStateFromRoster,
  rebaseGroupChange,
  senderKeysGroupProtocol,
} from '../src/index.js';
import type { AccountKeys, GroupChange, GroupChangeOp, GroupState } from '../src/index.js';
import { expectCode } from './helpers.js';

const crypto = defaultBackend();
const dev = (): Uint8Array[] => [crypto.randomBytes(16)];
const pk = (a: AccountKeys): Uint8Array => a.signing.publicKey;

let admin1: AccountKeys;
let admin2: AccountKeys;
let people: AccountKeys[];
let base: GroupState;

before(async () => {
  admin1 = await createAccountKeys(crypto);
  admin2 = await createAccountKeys(crypto);
  people = await Promise.all(Array.from({ length: 6 }, () => createAccountKeys(crypto)));
  base = await createGroup(
    crypto,
    { accountKey: pk(admin1), devices: dev() },
    {
      name: 'family',
      members: [{ accountKey: pk(admin2), devices: dev(), admin: true }, ...people.slice(0, 3).map((p) => ({ accountKey: pk(p), devices: dev() }))],
    },
  );
});

describe('group changes', () => {
  it('creates a group: random 32-byte id, epoch 0, creator admin, canonical roster', async () => {
    assert.equal(base.roster.groupId.length, 32);
    assert.equal(base.roster.epoch, 0);
    assert.equal(base.roster.members.length, 5);
    assert.ok(base.roster.members.find((m) => equalBytes(m.accountKey, pk(admin1)))!.admin);
    const again = await groupStateFromRoster(crypto, encodeGroupRoster(base.roster));
    assert.deepEqual(again.hash, base.hash);
  });

  it('an admin adds, renames, promotes and removes; the removal sets rekeyEpoch', async () => {
    let s = base;
    s = (await createGroupChange(crypto, s, admin1, [{ type: 'add-member', accountKey: pk(people[3]!), admin: false, devices: dev() }])).state;
    s = (await createGroupChange(crypto, s, admin1, [{ type: 'rename', name: 'family 2' }, { type: 'set-admin', accountKey: pk(people[3]!), admin: true }])).state;
    assert.equal(s.roster.epoch, 2);
    assert.equal(s.roster.rekeyEpoch, 0);
    const removed = await createGroupChange(crypto, s, people[3]!, [{ type: 'remove-member', accountKey: pk(people[0]!) }]);
    assert.equal(removed.state.roster.rekeyEpoch, 3);
    assert.equal(removed.effects.rekeyRequired, true);
    assert.deepEqual(removed.effects.removedMembers, [pk(people[0]!)]);
    assert.equal(removed.state.roster.name, 'family 2');
  });

  it('refuses non-admin changes, strangers, and devices set by someone else', async () => {
    const member = people[0]!;
    await expectCode(createGroupChange(crypto, base, member, [{ type: 'add-member', accountKey: pk(people[4]!), admin: false, devices: dev() }]), 'NOT_ADMIN');
    await expectCode(createGroupChange(crypto, base, member, [{ type: 'remove-member', accountKey: pk(people[1]!) }]), 'NOT_ADMIN');
    await expectCode(createGroupChange(crypto, base, member, [{ type: 'rename', name: 'x' }]), 'NOT_ADMIN');
    await expectCode(createGroupChange(crypto, base, people[5]!, [{ type: 'rename', name: 'x' }]), 'NOT_A_MEMBER');
    await expectCode(createGroupChange(crypto, base, admin1, [{ type: 'set-devices', accountKey: pk(member), devices: dev() }]), 'INVALID_CHANGE');
    // Leaving and setting one's own devices need no admin.
    assert.equal((await createGroupChange(crypto, base, member, [{ type: 'remove-member', accountKey: pk(member) }])).state.roster.members.length, 4);
    assert.equal((await createGroupChange(crypto, base, member, [{ type: 'set-devices', accountKey: pk(member), devices: [...dev(), ...dev()] }])).state.roster.rekeyEpoch, 1);
  });

  it('refuses removing or demoting the last admin, duplicates and non-members', async () => {
    const s = (await createGroupChange(crypto, base, admin1, [{ type: 'remove-member', accountKey: pk(admin2) }])).state;
    await expectCode(createGroupChange(crypto, s, admin1, [{ type: 'remove-member', accountKey: pk(admin1) }]), 'LAST_ADMIN');
    await expectCode(createGroupChange(crypto, s, admin1, [{ type: 'set-admin', accountKey: pk(admin1), admin: false }]), 'LAST_ADMIN');
    await expectCode(createGroupChange(crypto, s, admin1, [{ type: 'add-member', accountKey: pk(people[0]!), admin: false, devices: dev() }]), 'INVALID_CHANGE');
    await expectCode(createGroupChange(crypto, s, admin1, [{ type: 'remove-member', accountKey: pk(people[5]!) }]), 'INVALID_CHANGE');
    // The whole change is refused, not just the bad op: the state is unchanged.
    await expectCode(createGroupChange(crypto, s, admin1, [{ type: 'rename', name: 'ok' }, { type: 'remove-member', accountKey: pk(admin1) }]), 'LAST_ADMIN');
  });

  it('refuses tampered, forged, replayed, stale and foreign changes', async () => {
    const { change, state } = await createGroupChange(crypto, base, admin1, [{ type: 'remove-member', accountKey: pk(people[0]!) }]);
    const wire = encodeGroupChange(change);
    // Tampering with any byte of the signed part breaks the signature (or the decoding).
    for (let i = 0; i < wire.length; i += 7) {
      const t = wire.slice();
      t[i]! ^= 1;
      await assert.rejects(
        (async () => applyGroupChange(crypto, base, decodeGroupChange(t)))(),
        (e) => e instanceof ProtocolError && ['BAD_SIGNATURE', 'WRONG_GROUP', 'STALE_CHANGE', 'UNKNOWN_PARENT', 'INVALID_CHANGE', 'UNKNOWN_TYPE', 'BAD_FIELD', 'UNKNOWN_VERSION', 'FIELD_TOO_LARGE', 'TRUNCATED', 'TRAILING_BYTES'].includes(e.code),
      );
    }
    // A member forging an admin's change: signed by the member's key under the admin's name.
    const forged = { ...change, author: pk(admin1) };
    const memberSigned = (await createGroupChange(crypto, base, people[0]!, [{ type: 'remove-member', accountKey: pk(people[0]!) }])).change;
    await expectCode(applyGroupChange(crypto, base, { ...forged, signature: memberSigned.signature }), 'BAD_SIGNATURE');
    await expectCode(applyGroupChange(crypto, state, change), 'DUPLICATE_CHANGE');
    // Another change on the old roster after two more epochs: stale once it falls out of the window.
    let s = state;
    for (let i = 0; i < MAX_GROUP_REORG_DEPTH + 1; i++) s = (await createGroupChange(crypto, s, admin1, [{ type: 'rename', name: `n${i}` }])).state;
    await expectCode(applyGroupChange(crypto, s, change), 'STALE_CHANGE');
    const other = await createGroup(crypto, { accountKey: pk(admin1), devices: dev() }, { name: 'other' });
    await expectCode(applyGroupChange(crypto, other, change), 'WRONG_GROUP');
    // A change whose parent has not arrived yet.
    const next = (await createGroupChange(crypto, state, admin1, [{ type: 'rename', name: 'later' }])).change;
    const after = (await createGroupChange(crypto, (await applyGroupChange(crypto, state, next)).state, admin1, [{ type: 'rename', name: 'later still' }])).change;
    await expectCode(applyGroupChange(crypto, state, after), 'UNKNOWN_PARENT');
    await expectCode(applyGroupChange(crypto, base, { ...change, epoch: 5 }), 'INVALID_CHANGE');
  });

  it(`MAX_GROUP_MEMBERS (${MAX_GROUP_MEMBERS}) is enforced`, async () => {
    const ops: GroupChangeOp[] = Array.from({ length: MAX_GROUP_MEMBERS - 1 }, () => ({ type: 'add-member', accountKey: crypto.randomBytes(32), admin: false, devices: dev() }));
    const lone = await createGroup(crypto, { accountKey: pk(admin1), devices: dev() }, { name: 'big' });
    const full = (await createGroupChange(crypto, lone, admin1, ops)).state;
    assert.equal(full.roster.members.length, MAX_GROUP_MEMBERS);
    await expectCode(createGroupChange(crypto, full, admin1, [{ type: 'add-member', accountKey: crypto.randomBytes(32), admin: false, devices: dev() }]), 'GROUP_FULL');
    const decoded = decodeGroupState(encodeGroupState(full));
    assert.deepEqual(decoded.hash, full.hash);
    assert.equal(decoded.roster.members.length, MAX_GROUP_MEMBERS);
    await expectCode(
      createGroup(crypto, { accountKey: pk(admin1), devices: dev() }, { name: 'x', members: ops.concat(ops.slice(0, 1)).map((o) => ({ accountKey: (o as { accountKey: Uint8Array }).accountKey, devices: dev() })) }),
      'GROUP_FULL',
    );
  });

  it('group state survives encode/decode including its fork window', async () => {
    let s = base;
    for (let i = 0; i < MAX_GROUP_REORG_DEPTH + 3; i++) s = (await createGroupChange(crypto, s, admin2, [{ type: 'rename', name: `n${i}` }])).state;
    assert.equal(s.chain.length, MAX_GROUP_REORG_DEPTH);
    const d = decodeGroupState(encodeGroupState(s));
    assert.deepEqual(encodeGroupState(d), encodeGroupState(s));
    assert.deepEqual(d.hash, s.hash);
    assert.equal(d.roster.name, s.roster.name);
  });
});

describe('concurrent changes', () => {
  /** Delivers `changes` to `state` in order, holding UNKNOWN_PARENT ones for a retry and dropping the losers. */
  async function deliverAll(state: GroupState, changes: readonly GroupChange[]): Promise<{ state: GroupState; orphaned: GroupChange[] }> {
    let s = state;
    const orphaned: GroupChange[] = [];
    let held: GroupChange[] = [];
    const tryOne = async (c: GroupChange): Promise<'ok' | 'held' | 'dropped'> => {
      try {
        const r = await applyGroupChange(crypto, s, c);
        s = r.state;
        orphaned.push(...r.orphaned);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof ProtocolError);
        if (e.code === 'UNKNOWN_PARENT') return 'held';
        assert.ok(['STALE_CHANGE', 'DUPLICATE_CHANGE'].includes(e.code), e.code);
        return 'dropped';
      }
    };
    for (const c of changes) {
      if ((await tryOne(c)) === 'held') held.push(c);
      // Any success may unblock held changes.
      let progress = true;
      while (progress) {
        progress = false;
        const still: GroupChange[] = [];
        for (const h of held) {
          const r = await tryOne(h);
          if (r === 'held') still.push(h);
          else if (r === 'ok') progress = true;
        }
        held = still;
      }
    }
    return { state: s, orphaned };
  }

  const opFor = (kind: number, who: number): GroupChangeOp => {
    switch (kind % 4) {
      case 0:
        return { type: 'add-member', accountKey: pk(people[3 + (who % 3)]!), admin: false, devices: [Uint8Array.of(who, ...new Uint8Array(15))] };
      case 1:
        return { type: 'remove-member', accountKey: pk(people[who % 3]!) };
      case 2:
        return { type: 'rename', name: `name ${who}` };
      default:
        return { type: 'set-admin', accountKey: pk(people[who % 3]!), admin: true };
    }
  };

  let forkSwitches = 0;
  it('every member ends in the same state whatever the delivery order (lower change hash wins each fork)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ byAdmin2: fc.boolean(), kind: fc.nat(), who: fc.nat(), followUps: fc.nat({ max: 2 }) }), { minLength: 2, maxLength: 4 }),
        fc.array(fc.nat(), { minLength: 12, maxLength: 12 }),
        async (branches, shuffles) => {
          // Each branch: a change on the SAME base roster by one of two admins, plus follow-ups its author built on it.
          const all: GroupChange[] = [];
          for (const b of branches) {
            const author = b.byAdmin2 ? admin2 : admin1;
            let made: Awaited<ReturnType<typeof createGroupChange>>;
            try {
              made = await createGroupChange(crypto, base, author, [opFor(b.kind, b.who)]);
            } catch {
              continue;
            }
            all.push(made.change);
            let s = made.state;
            for (let i = 0; i < b.followUps; i++) {
              const f = await createGroupChange(crypto, s, author, [{ type: 'rename', name: `${toHex(made.change.signature.subarray(0, 4))}/${i}` }]);
              all.push(f.change);
              s = f.state;
            }
          }
          // Four members, each receiving everything in its own order.
          const finals: string[] = [];
          for (let m = 0; m < 4; m++) {
            const order = all.slice();
            for (let i = order.length - 1; i > 0; i--) {
              const j = shuffles[(m * 3 + i) % shuffles.length]! % (i + 1);
              [order[i], order[j]] = [order[j]!, order[i]!];
            }
            const r = await deliverAll(base, order);
            finals.push(toHex(r.state.hash));
            forkSwitches += r.orphaned.length;
          }
          assert.equal(new Set(finals).size, 1, 'members diverged');
        },
      ),
      { numRuns: 40 },
    );
    assert.ok(forkSwitches > 10, `fork switches exercised: ${forkSwitches}`);
  });

  it('the loser is rolled back and re-signed by its author on the winning roster', async () => {
    const a = await createGroupChange(crypto, base, admin1, [{ type: 'remove-member', accountKey: pk(people[0]!) }]);
    const b = await createGroupChange(crypto, base, admin2, [{ type: 'add-member', accountKey: pk(people[4]!), admin: false, devices: dev() }]);
    const [low, high] = toHex(await groupChangeHash(crypto, a.change)) < toHex(await groupChangeHash(crypto, b.change)) ? [a, b] : [b, a];
    // The author of the higher change applied its own change first, then receives the lower one.
    const switched = await applyGroupChange(crypto, high.state, low.change);
    assert.deepEqual(switched.orphaned, [high.change]);
    assert.deepEqual(switched.state.hash, low.state.hash);
    assert.equal(switched.effects.rekeyRequired, true);
    // Whoever saw the lower one first refuses the higher one.
    await expectCode(applyGroupChange(crypto, low.state, high.change), 'STALE_CHANGE');
    // Rebase: the higher change's author re-signs it on the new tip; everybody applies it.
    const highAuthor = high === a ? admin1 : admin2;
    const rebased = await rebaseGroupChange(crypto, switched.state, highAuthor, high.change);
    assert.ok(rebased);
    assert.equal(rebased.state.roster.epoch, 2);
    const elsewhere = await applyGroupChange(crypto, low.state, rebased.change);
    assert.deepEqual(elsewhere.state.hash, rebased.state.hash);
    // Nothing left to rebase once the same effect is already there.
    assert.equal(await rebaseGroupChange(crypto, rebased.state, highAuthor, high.change), null);
  });

  it('the GroupProtocol facade speaks bytes and behaves the same', async () => {
    const p = senderKeysGroupProtocol;
    const g = await p.joinGroup(crypto, p.exportForNewMember(base));
    const proposed = await p.proposeChange(crypto, g, admin1, [{ type: 'rename', name: 'via facade' }]);
    const applied = await p.applyChange(crypto, g, proposed.change);
    assert.deepEqual(applied.group.hash, proposed.group.hash);
    assert.deepEqual(p.decodeGroup(p.encodeGroup(applied.group)).hash, applied.group.hash);
    await expectCode(p.applyChange(crypto, applied.group, proposed.change), 'DUPLICATE_CHANGE');
  });
});
