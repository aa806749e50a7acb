/**
 * Numbered SQLite schema migrations. Migration N brings the database from user_version N-1 to N.
 * Never edit a released migration: add a new one (test/sqlite-migrations.test.ts migrates
 * from N-1 with data in place for each).
 */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE identity (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        account_keys BLOB NOT NULL,
        device_keys BLOB NOT NULL,
        display_name TEXT NOT NULL,
        relay_url TEXT NOT NULL,
        delivery_token BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE prekeys (
        kind TEXT NOT NULL CHECK (kind IN ('signed', 'one_time', 'kem')),
        id INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (kind, id)
      );
      CREATE TABLE sessions (
        device_id TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        record BLOB NOT NULL
      );
      CREATE TABLE contacts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        account_key BLOB NOT NULL,
        relay_url TEXT NOT NULL,
        delivery_token BLOB NOT NULL,
        verified INTEGER NOT NULL DEFAULT 0,
        added_at INTEGER NOT NULL
      );
      CREATE TABLE contact_devices (
        contact_id TEXT NOT NULL,
        device_id TEXT NOT NULL,
        certificate BLOB NOT NULL,
        PRIMARY KEY (contact_id, device_id)
      );
      CREATE TABLE invites (
        secret TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE messages (
        id TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        text TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER,
        state TEXT NOT NULL,
        read INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX messages_by_contact ON messages (contact_id, sent_at);
      CREATE TABLE outbox (
        relay_message_id TEXT PRIMARY KEY,
        message_id TEXT,
        contact_id TEXT NOT NULL,
        recipient_device_id TEXT NOT NULL,
        delivery_token BLOB NOT NULL,
        envelope BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE seen (
        id TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
      );
      CREATE TABLE relay_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    // Contacts may live on another relay than ours: each outbox row remembers where it goes,
    // and unread lookups get an index. Existing rows take the contact's relay.
    version: 2,
    sql: `
      ALTER TABLE outbox ADD COLUMN relay_url TEXT NOT NULL DEFAULT '';
      UPDATE outbox SET relay_url = COALESCE((SELECT relay_url FROM contacts WHERE contacts.id = outbox.contact_id), '');
      CREATE INDEX outbox_by_message ON outbox (message_id);
      CREATE INDEX messages_unread ON messages (direction, read);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
