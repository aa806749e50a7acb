/**
 * Numbered schema migrations of the SQLite store. Append only: a released migration is never
 * edited; PRAGMA user_version records the last one applied (docs/relay-api.md, "Storage").
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
      CREATE TABLE accounts (
        account_id BLOB PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE devices (
        device_id BLOB PRIMARY KEY,
        account_id BLOB NOT NULL REFERENCES accounts (account_id),
        signing_key BLOB NOT NULL,
        certificate BLOB NOT NULL,
        registered_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX devices_by_account ON devices (account_id);

      -- kind 0 = X25519 signed prekey, 1 = ML-KEM-1024 last-resort prekey; one of each per device.
      CREATE TABLE signed_prekeys (
        device_id BLOB NOT NULL,
        kind INTEGER NOT NULL,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (device_id, kind)
      ) WITHOUT ROWID;

      -- kind 0 = X25519 one-time prekey (unsigned), 1 = ML-KEM-1024 one-time prekey (signed).
      CREATE TABLE one_time_prekeys (
        device_id BLOB NOT NULL,
        kind INTEGER NOT NULL,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB,
        PRIMARY KEY (device_id, kind, key_id)
      ) WITHOUT ROWID;

      CREATE TABLE delivery_tokens (
        account_id BLOB NOT NULL,
        token_hash BLOB NOT NULL,
        PRIMARY KEY (account_id, token_hash)
      ) WITHOUT ROWID;

      -- AUTOINCREMENT: seq must never be reused, since connections page through a mailbox by seq.
      CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient BLOB NOT NULL,
        message_id BLOB NOT NULL,
        envelope BLOB NOT NULL,
        received_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX messages_by_recipient ON messages (recipient, message_id);
      CREATE INDEX messages_by_recipient_seq ON messages (recipient, seq);
      CREATE INDEX messages_by_expiry ON messages (expires_at);

      -- Kept exact by triggers so the MAILBOX_FULL check is one primary-key lookup.
      CREATE TABLE mailbox_usage (
        device_id BLOB PRIMARY KEY,
        messages INTEGER NOT NULL,
        bytes INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TRIGGER messages_usage_insert AFTER INSERT ON messages BEGIN
        INSERT INTO mailbox_usage (device_id, messages, bytes) VALUES (NEW.recipient, 1, length(NEW.envelope))
        ON CONFLICT (device_id) DO UPDATE SET messages = messages + 1, bytes = bytes + length(NEW.envelope);
      END;
      CREATE TRIGGER messages_usage_delete AFTER DELETE ON messages BEGIN
        UPDATE mailbox_usage SET messages = messages - 1, bytes = bytes - length(OLD.envelope)
        WHERE device_id = OLD.recipient;
      END;
    `,
  },
  {
    version: 2,
    name: 'linked devices',
    // docs/relay-api.md "Linked devices": the account's signed device list (counter kept apart
    // so the supersession check needs no decoding) and one-message provisioning mailboxes.
    sql: `
      CREATE TABLE device_lists (
        account_id BLOB PRIMARY KEY,
        counter INTEGER NOT NULL,
        list BLOB NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE provisioning (
        provisioning_id BLOB PRIMARY KEY,
        expires_at INTEGER NOT NULL,
        envelope BLOB
      ) WITHOUT ROWID;
      CREATE INDEX provisioning_by_expiry ON provisioning (expires_at);
    `,
  },
];

export const LATEST_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;
