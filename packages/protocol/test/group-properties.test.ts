/**
 * The group property of issue "groups" at the protocol level: after any sequence of adds,
 * removes, leaves, device changes and messages, every current member device decrypts every
 * message sent after it joined, and no removed member (or removed device) decrypts anything
 * sent after its removal, even though it keeps its old state and tries every key it holds.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultBackend } from '@pigeon/crypto';
import { ProtocolError, groupDecrypt, needsRekey, senderKeyDecrypt } from '../src/index.js';
import type { GroupDeviceRef } from '../src/index.js';
import { broadcastChange, distribute, makePeople, receiveGroupMessage, sendGroupMessage, startGroup } from './group-helpers.js';
import type { SimDevice, SimPerson } from './group-helpers.js';

const crypto = defaultBackend();
const PEOPLE = 6;

const op = fc.oneof(
  { weight: 3, arbitrary: fc.record({ type: fc.constant('send' as const), who: fc.nat(), device: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('add' as const), who: fc.integer({ min: 1, max: PEOPLE - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('remove' as const), who: fc.integer({ min: 1, max: PEOPLE - 1 }), leave: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('drop-device' as const), who: fc.integer({ min: 1, max: PEOPLE - 1 }) }) },
);

let template: SimPerson[];
const totals = { decrypted: 0, refused: 0 };
before(async () => {
  template = await makePeople(crypto, PEOPLE);
});

describe('group properties', () => {
  it('current members read everything sent after they joined; removed members and devices read nothing after removal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), fc.subarray([1, 2, 3, 4, 5]), async (ops, initial) => {
        const people = template.map((p) => ({ ...p, deviceIds: p.deviceIds.slice(), devices: [] as SimDevice[] }));
        await startGroup(crypto, people, initial);
        const former: SimDevice[] = [];
        const members = (): SimPerson[] => people.filter((p) => p.devices.length > 0);
        const allDevices = (): SimDevice[] => members().flatMap((p) => p.devices);
        let sent = 0;
        for (const o of ops) {
          if (o.type === 'add') {
            const p = people[o.who]!;
            if (p.devices.length > 0) continue;
            const change = await broadcastChange(crypto, members(), people[0]!, [
              { type: 'add-member', accountKey: p.account.signing.publicKey, admin: false, devices: p.deviceIds },
            ]);
            assert.equal(change.epoch, people[0]!.devices[0]!.group.roster.epoch);
            const { encodeGroupRoster, groupStateFromRoster } = await import('../src/index.js');
            const snapshot = encodeGroupRoster(people[0]!.devices[0]!.group.roster);
            p.devices = await Promise.all(
              p.deviceIds.map(async (deviceId) => ({ ref: { accountKey: p.account.signing.publicKey, deviceId }, group: await groupStateFromRoster(crypto, snapshot), own: undefined, received: new Map() })),
            );
            // Existing senders hand their CURRENT key to the newcomer; no rekey on adds.
            for (const d of allDevices()) for (const n of p.devices) distribute(d, n);
          } else if (o.type === 'remove') {
            const p = people[o.who]!;
            if (p.devices.length === 0) continue;
            const author = o.leave ? p : people[0]!;
            await broadcastChange(crypto, members(), author, [{ type: 'remove-member', accountKey: p.account.signing.publicKey }]);
            former.push(...p.devices);
            p.devices = [];
            for (const d of allDevices()) assert.ok(needsRekey(d.group, d.ref, d.own), 'every remaining device must rekey');
          } else if (o.type === 'drop-device') {
            const p = people[o.who]!;
            if (p.devices.length < 2) continue;
            const [gone, ...kept] = p.devices;
            await broadcastChange(crypto, members(), p, [
              { type: 'set-devices', accountKey: p.account.signing.publicKey, devices: kept.map((d) => d.ref.deviceId) },
            ]);
            former.push(gone!);
            p.devices = kept;
          } else {
            const senders = allDevices();
            const from = senders[o.who % senders.length]!;
            const text = `m${sent++}`;
            const message = await sendGroupMessage(crypto, from, senders, text);
            for (const d of senders) {
              if (d === from) continue;
              assert.equal(await receiveGroupMessage(crypto, d, from.ref, message), text);
              totals.decrypted++;
            }
            for (const f of former) {
              for (const key of f.received.values()) {
                await assert.rejects(senderKeyDecrypt(crypto, key, message), (e) => e instanceof ProtocolError);
                totals.refused++;
                await assert.rejects(groupDecrypt(crypto, f.group, from.ref as GroupDeviceRef, key, message), (e) => e instanceof ProtocolError);
              }
            }
          }
        }
      }),
      { numRuns: 60 },
    );
    // The runs exercised both halves of the property.
    assert.ok(totals.decrypted > 100 && totals.refused > 20, JSON.stringify(totals));
  });
});
