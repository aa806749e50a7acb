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
  {
    // Key changes: a device identity we had not seen under a contact's account key. An
    // unacknowledged event blocks sending to that contact (DESIGN: safety numbers).
    // Messages may now be in state 'read' (the state column is free text: no change needed).
    version: 3,
    sql: `
      CREATE TABLE safety_events (
        id TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        device_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        acknowledged INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX safety_events_by_contact ON safety_events (contact_id, at);
    `,
  },
  {
    // Groups (docs/protocol.md §12; groups/sqlite-group-store.node.ts): the signed group state and
    // our sender key per group, received sender keys, group messages, and payloads held until what
    // they depend on arrives.
    version: 4,
    sql: `
      CREATE TABLE groups (
        id TEXT PRIMARY KEY,
        state BLOB NOT NULL,
        own_key BLOB,
        invite_secret TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE group_sender_keys (
        group_id TEXT NOT NULL,
        sender_device_id TEXT NOT NULL,
        distribution_id TEXT NOT NULL,
        key BLOB NOT NULL,
        PRIMARY KEY (group_id, sender_device_id, distribution_id)
      );
      CREATE TABLE group_messages (
        id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        text TEXT NOT NULL,
        sent_at INTEGER NOT NULL,
        received_at INTEGER,
        state TEXT NOT NULL,
        read INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX group_messages_by_group ON group_messages (group_id, sent_at);
      CREATE INDEX group_messages_unread ON group_messages (direction, read);
      CREATE TABLE group_held (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        group_id TEXT NOT NULL,
        sender BLOB NOT NULL,
        payload BLOB NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX group_held_by_group ON group_held (group_id, seq);
    `,
  },
  {
    // Message life (docs/message-life.md; store/message-life-types.ts): per-message extras
    // (reply, edited, deleted tombstone, disappearing timer + expiry), reactions, blocked
    // senders, and message requests from unknown senders (their messages stay in `messages`).
    version: 5,
    sql: `
      CREATE TABLE message_meta (
        id TEXT PRIMARY KEY,
        contact_id TEXT NOT NULL,
        reply_to TEXT,
        quote TEXT,
        edited INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        timer_ms INTEGER NOT NULL DEFAULT 0,
        expires_at INTEGER
      );
      CREATE INDEX message_meta_expiry ON message_meta (expires_at) WHERE expires_at IS NOT NULL;
      CREATE TABLE reactions (
        message_id TEXT NOT NULL,
        sender_id TEXT NOT NULL,
        emoji TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (message_id, sender_id)
      );
      CREATE TABLE blocks (
        contact_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        reported INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT ''
      );
      CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        account_key BLOB NOT NULL,
        name TEXT NOT NULL,
        relay_url TEXT,
        delivery_token BLOB,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL
      );
    `,
  },
  {
    // Group receipts and re-sends (docs/protocol.md §12.8, §12.9; groups/sqlite-group-store.node.ts):
    // what each member said about our group messages, and which sender key (distribution id +
    // iteration) carried each copy we sent, so a member that could not use one can ask for it again.
    version: 6,
    sql: `
      CREATE TABLE group_receipts (
        message_id TEXT NOT NULL,
        member_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('delivered', 'read')),
        at INTEGER NOT NULL,
        PRIMARY KEY (message_id, member_id)
      );
      CREATE TABLE group_sent (
        group_id TEXT NOT NULL,
        distribution_id TEXT NOT NULL,
        iteration INTEGER NOT NULL,
        message_id TEXT NOT NULL,
        epoch INTEGER NOT NULL,
        PRIMARY KEY (group_id, distribution_id, iteration)
      );
      CREATE INDEX group_sent_by_message ON group_sent (message_id, epoch);
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
