/** SQLite part of the linked-device store contract (linked-devices.ts); the tables come from migration 2. */
import type Database from 'better-sqlite3';
import type { LinkedDeviceStore, PutDeviceListResult, StoredDeviceList } from './linked-devices.js';

interface ListRow {
  counter: number;
  list: Buffer;
}

export class SqliteLinkedDevices {
  private readonly s;
  private readonly putListTx;
  private readonly openTx;
  private readonly takeTx;

  constructor(db: Database.Database) {
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      getList: p('SELECT counter, list FROM device_lists WHERE account_id = ?'),
      putList: p('INSERT OR REPLACE INTO device_lists (account_id, counter, list) VALUES (?, ?, ?)'),
      devicesOfAccount: p('SELECT device_id FROM devices WHERE account_id = ?').pluck(),
      deleteDevice: p('DELETE FROM devices WHERE device_id = ?'),
      deleteSigned: p('DELETE FROM signed_prekeys WHERE device_id = ?'),
      deleteOneTime: p('DELETE FROM one_time_prekeys WHERE device_id = ?'),
      deleteMessages: p('DELETE FROM messages WHERE recipient = ?'),
      deleteUsage: p('DELETE FROM mailbox_usage WHERE device_id = ?'),
      deleteExpired: p('DELETE FROM provisioning WHERE expires_at <= ?'),
      openMailbox: p('INSERT OR IGNORE INTO provisioning (provisioning_id, expires_at, envelope) VALUES (?, ?, NULL)'),
      getMailbox: p('SELECT envelope FROM provisioning WHERE provisioning_id = ? AND expires_at > ?'),
      fillMailbox: p('UPDATE provisioning SET envelope = ? WHERE provisioning_id = ? AND expires_at > ? AND envelope IS NULL'),
      deleteMailbox: p('DELETE FROM provisioning WHERE provisioning_id = ?'),
    };

    this.putListTx = db.transaction((accountId: Uint8Array, list: StoredDeviceList, listed: readonly Uint8Array[]): PutDeviceListResult => {
      const current = this.s.getList.get(accountId) as ListRow | undefined;
      if (current !== undefined) {
        if (current.counter === list.counter && Buffer.from(list.bytes).equals(current.list)) return { outcome: 'unchanged' };
        if (list.counter <= current.counter) return { outcome: 'stale' };
      }
      this.s.putList.run(accountId, list.counter, list.bytes);
      const keep = new Set(listed.map((id) => Buffer.from(id).toString('hex')));
      const removed: Uint8Array[] = [];
      for (const deviceId of this.s.devicesOfAccount.all(accountId) as Buffer[]) {
        if (keep.has(deviceId.toString('hex'))) continue;
        // Messages first: their delete trigger updates mailbox_usage, which then goes too.
        this.s.deleteMessages.run(deviceId);
        this.s.deleteUsage.run(deviceId);
        this.s.deleteSigned.run(deviceId);
        this.s.deleteOneTime.run(deviceId);
        this.s.deleteDevice.run(deviceId);
        removed.push(deviceId);
      }
      return { outcome: 'stored', removed };
    });

    this.openTx = db.transaction((id: Uint8Array, now: number, expiresAt: number): 'opened' | 'exists' => {
      this.s.deleteExpired.run(now);
      return this.s.openMailbox.run(id, expiresAt).changes === 1 ? 'opened' : 'exists';
    });

    this.takeTx = db.transaction((id: Uint8Array, now: number): Uint8Array | undefined => {
      const row = this.s.getMailbox.get(id, now) as { envelope: Buffer | null } | undefined;
      if (row === undefined || row.envelope === null) return undefined;
      this.s.deleteMailbox.run(id);
      return row.envelope;
    });
  }

  getDeviceList(accountId: Uint8Array): StoredDeviceList | undefined {
    const row = this.s.getList.get(accountId) as ListRow | undefined;
    return row === undefined ? undefined : { counter: row.counter, bytes: row.list };
  }

  putDeviceList(accountId: Uint8Array, list: StoredDeviceList, listed: readonly Uint8Array[]): PutDeviceListResult {
    return this.putListTx(accountId, list, listed);
  }

  openProvisioning(id: Uint8Array, now: number, expiresAt: number): 'opened' | 'exists' {
    return this.openTx(id, now, expiresAt);
  }

  putProvisioningMessage(id: Uint8Array, envelope: Uint8Array, now: number): 'stored' | 'unknown' | 'full' {
    if (this.s.fillMailbox.run(envelope, id, now).changes === 1) return 'stored';
    return this.s.getMailbox.get(id, now) === undefined ? 'unknown' : 'full';
  }

  takeProvisioningMessage(id: Uint8Array, now: number): Uint8Array | undefined {
    return this.takeTx(id, now);
  }
}

/** Compile-time check that the synchronous methods cover the async contract one to one. */
export type SqliteLinkedDeviceMethods = { [K in keyof LinkedDeviceStore]: (...args: Parameters<LinkedDeviceStore[K]>) => unknown };
const _check: SqliteLinkedDeviceMethods = {} as SqliteLinkedDevices;
void _check;
