/**
 * Numbered schema migrations of the PostgreSQL store. Append only: a released migration is never
 * edited. Each shard database records the ones it has applied in `schema_migrations`; every relay
 * node runs the missing ones at open, one transaction each, under an advisory lock so nodes that
 * start together do not race (see STORE-POSTGRES.md).
 *
 * Citus-ready layout: every table's primary key starts with its distribution column (account_id
 * for account data, the device id for mailboxes and the device directory), and the only foreign
 * keys join tables that share that column, so they stay co-located once distributed.
 */
import type { Migration } from './sqlite-migrations.js';

export type { Migration };

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tables',
    sql: `
      -- Account data is distributed by account_id.
      CREATE TABLE accounts (
        account_id BYTEA PRIMARY KEY,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE devices (
        account_id BYTEA NOT NULL REFERENCES accounts (account_id),
        device_id BYTEA NOT NULL,
        signing_key BYTEA NOT NULL,
        certificate BYTEA NOT NULL,
        registered_at BIGINT NOT NULL,
        PRIMARY KEY (account_id, device_id)
      );

      -- kind 0 = X25519 signed prekey, 1 = ML-KEM-1024 last-resort prekey; one of each per device.
      CREATE TABLE signed_prekeys (
        account_id BYTEA NOT NULL,
        device_id BYTEA NOT NULL,
        kind SMALLINT NOT NULL,
        key_id BIGINT NOT NULL,
        public_key BYTEA NOT NULL,
        signature BYTEA NOT NULL,
        PRIMARY KEY (account_id, device_id, kind),
        FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id)
      );

      -- kind 0 = X25519 one-time prekey (unsigned), 1 = ML-KEM-1024 one-time prekey (signed).
      CREATE TABLE one_time_prekeys (
        account_id BYTEA NOT NULL,
        device_id BYTEA NOT NULL,
        kind SMALLINT NOT NULL,
        key_id BIGINT NOT NULL,
        public_key BYTEA NOT NULL,
        signature BYTEA,
        PRIMARY KEY (account_id, device_id, kind, key_id),
        FOREIGN KEY (account_id, device_id) REFERENCES devices (account_id, device_id)
      );

      CREATE TABLE delivery_tokens (
        account_id BYTEA NOT NULL,
        token_hash BYTEA NOT NULL,
        PRIMARY KEY (account_id, token_hash)
      );

      -- Device data is distributed by device id. The directory answers "which account (and so
      -- which shard) holds this device", since most calls name only the device. claim marks the
      -- registration that wrote the row, so an abandoned one can be told apart and released.
      CREATE TABLE device_directory (
        device_id BYTEA PRIMARY KEY,
        account_id BYTEA NOT NULL,
        claim BYTEA NOT NULL,
        created_at BIGINT NOT NULL
      );

      -- seq comes from one identity per shard; enqueue takes it while holding the mailbox's
      -- usage row, so within a mailbox seq order is commit order and a reader paging by seq
      -- never skips a row that commits late.
      CREATE TABLE messages (
        recipient BYTEA NOT NULL,
        seq BIGINT GENERATED ALWAYS AS IDENTITY,
        message_id BYTEA NOT NULL,
        envelope BYTEA NOT NULL,
        received_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        PRIMARY KEY (recipient, seq),
        UNIQUE (recipient, message_id)
      );
      -- Envelopes are ciphertext: compressing them only costs CPU.
      ALTER TABLE messages ALTER COLUMN envelope SET STORAGE EXTERNAL;
      CREATE INDEX messages_by_expiry ON messages (expires_at);

      -- Exact per-mailbox totals, so the MAILBOX_FULL check is one primary-key lookup; the row is
      -- also the mailbox's lock (enqueue, ack and sweep take it before touching messages).
      CREATE TABLE mailbox_usage (
        device_id BYTEA PRIMARY KEY,
        messages BIGINT NOT NULL,
        bytes BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'mailbox functions',
    // One round trip per mailbox write, and the lock order (usage row, then messages) lives in
    // one place. Called in autocommit: each call is its own transaction.
    sql: `
      CREATE FUNCTION pigeon_enqueue(
        p_recipient BYTEA, p_message_id BYTEA, p_envelope BYTEA, p_received_at BIGINT,
        p_expires_at BIGINT, p_max_messages BIGINT, p_max_bytes BIGINT
      ) RETURNS TEXT LANGUAGE plpgsql AS $fn$
      DECLARE
        used_messages BIGINT;
        used_bytes BIGINT;
        size BIGINT := octet_length(p_envelope);
      BEGIN
        SELECT messages, bytes INTO used_messages, used_bytes
          FROM mailbox_usage WHERE device_id = p_recipient FOR UPDATE;
        IF NOT FOUND THEN
          INSERT INTO mailbox_usage (device_id, messages, bytes) VALUES (p_recipient, 0, 0)
            ON CONFLICT (device_id) DO NOTHING;
          SELECT messages, bytes INTO used_messages, used_bytes
            FROM mailbox_usage WHERE device_id = p_recipient FOR UPDATE;
        END IF;
        IF used_messages + 1 > p_max_messages OR used_bytes + size > p_max_bytes THEN
          IF EXISTS (SELECT 1 FROM messages WHERE recipient = p_recipient AND message_id = p_message_id) THEN
            RETURN 'duplicate';
          END IF;
          RETURN 'full';
        END IF;
        INSERT INTO messages (recipient, message_id, envelope, received_at, expires_at)
          VALUES (p_recipient, p_message_id, p_envelope, p_received_at, p_expires_at)
          ON CONFLICT (recipient, message_id) DO NOTHING;
        IF NOT FOUND THEN
          RETURN 'duplicate';
        END IF;
        UPDATE mailbox_usage SET messages = messages + 1, bytes = bytes + size WHERE device_id = p_recipient;
        RETURN 'stored';
      END
      $fn$;

      -- Several mailboxes' enqueues in one transaction (one commit); the caller sorts them by
      -- recipient so concurrent batches lock usage rows in the same order.
      CREATE FUNCTION pigeon_enqueue_many(
        p_recipients BYTEA[], p_message_ids BYTEA[], p_envelopes BYTEA[], p_received_at BIGINT[],
        p_expires_at BIGINT[], p_max_messages BIGINT[], p_max_bytes BIGINT[]
      ) RETURNS TEXT[] LANGUAGE plpgsql AS $fn$
      DECLARE
        outcomes TEXT[] := '{}';
      BEGIN
        FOR i IN 1 .. coalesce(array_length(p_recipients, 1), 0) LOOP
          outcomes := outcomes || pigeon_enqueue(p_recipients[i], p_message_ids[i], p_envelopes[i],
            p_received_at[i], p_expires_at[i], p_max_messages[i], p_max_bytes[i]);
        END LOOP;
        RETURN outcomes;
      END
      $fn$;

      CREATE FUNCTION pigeon_ack(p_device BYTEA, p_message_ids BYTEA[]) RETURNS BIGINT
      LANGUAGE plpgsql AS $fn$
      DECLARE
        gone_messages BIGINT;
        gone_bytes BIGINT;
      BEGIN
        PERFORM 1 FROM mailbox_usage WHERE device_id = p_device FOR UPDATE;
        IF NOT FOUND THEN
          RETURN 0; -- every stored message has a usage row, so there is nothing to delete
        END IF;
        WITH gone AS (
          DELETE FROM messages WHERE recipient = p_device AND message_id = ANY (p_message_ids)
          RETURNING octet_length(envelope) AS size
        )
        SELECT count(*), coalesce(sum(size), 0) INTO gone_messages, gone_bytes FROM gone;
        IF gone_messages > 0 THEN
          UPDATE mailbox_usage SET messages = messages - gone_messages, bytes = bytes - gone_bytes
            WHERE device_id = p_device;
        END IF;
        RETURN gone_messages;
      END
      $fn$;

      -- Several mailboxes' acks in one transaction; p_message_ids holds every id list flattened,
      -- device i's ids being p_message_ids[p_starts[i]:p_ends[i]]. Sorted by device by the caller.
      CREATE FUNCTION pigeon_ack_many(
        p_devices BYTEA[], p_message_ids BYTEA[], p_starts INTEGER[], p_ends INTEGER[]
      ) RETURNS BIGINT[] LANGUAGE plpgsql AS $fn$
      DECLARE
        counts BIGINT[] := '{}';
      BEGIN
        FOR i IN 1 .. coalesce(array_length(p_devices, 1), 0) LOOP
          counts := counts || pigeon_ack(p_devices[i], p_message_ids[p_starts[i]:p_ends[i]]);
        END LOOP;
        RETURN counts;
      END
      $fn$;

      -- Deletes the expired mail of at most p_mailboxes mailboxes; the caller repeats until 0.
      -- The usage rows are locked first and in device order, the same order enqueue and ack use,
      -- so concurrent sweeps (several relay nodes) and mailbox writes never deadlock.
      CREATE FUNCTION pigeon_sweep_batch(p_now BIGINT, p_mailboxes INTEGER) RETURNS BIGINT
      LANGUAGE plpgsql AS $fn$
      DECLARE
        locked BYTEA[];
        total BIGINT;
      BEGIN
        SELECT array_agg(device_id) INTO locked FROM (
          SELECT device_id FROM mailbox_usage
          WHERE device_id IN (SELECT recipient FROM messages WHERE expires_at <= p_now ORDER BY expires_at LIMIT p_mailboxes)
          ORDER BY device_id FOR UPDATE
        ) AS l;
        IF locked IS NULL THEN
          RETURN 0;
        END IF;
        WITH gone AS (
          DELETE FROM messages WHERE recipient = ANY (locked) AND expires_at <= p_now
          RETURNING recipient, octet_length(envelope) AS size
        ), per_mailbox AS (
          SELECT recipient, count(*) AS n, sum(size) AS b FROM gone GROUP BY recipient
        ), updated AS (
          UPDATE mailbox_usage u SET messages = u.messages - p.n, bytes = u.bytes - p.b
          FROM per_mailbox p WHERE u.device_id = p.recipient
          RETURNING p.n
        )
        SELECT coalesce(sum(n), 0) INTO total FROM updated;
        RETURN total;
      END
      $fn$;
    `,
  },
  {
    version: 3,
    name: 'shard identity',
    // Written at first open with the shard's name and the whole shard list: a later open with a
    // different list would route recipients to shards that do not hold their data, so it is
    // refused instead of silently hiding mailboxes (postgres-sharding.ts).
    sql: `
      CREATE TABLE shard_identity (
        singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
        shard_name TEXT NOT NULL,
        shard_set TEXT[] NOT NULL,
        created_at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'linked devices',
    // docs/relay-api.md "Linked devices". device_lists lives with the account (account shard);
    // a provisioning mailbox on the shard of its random id.
    sql: `
      CREATE TABLE device_lists (
        account_id BYTEA PRIMARY KEY REFERENCES accounts (account_id),
        counter BIGINT NOT NULL,
        list BYTEA NOT NULL
      );

      CREATE TABLE provisioning (
        provisioning_id BYTEA PRIMARY KEY,
        expires_at BIGINT NOT NULL,
        envelope BYTEA
      );
      CREATE INDEX provisioning_by_expiry ON provisioning (expires_at);
    `,
  },
  {
    version: 5,
    name: 'mailbox write batches',
    // One batch of the group commit (postgres-group-commit.ts): enqueues and acks of many
    // mailboxes in one statement and one transaction. The caller sorts the writes by device (a
    // stable sort: one mailbox's writes keep their issue order), so every batch locks usage rows
    // in the same order. Write i is an ack when p_is_ack[i], its ids being
    // p_ack_ids[p_ack_starts[i]:p_ack_ends[i]]; otherwise an enqueue. Outcomes are pigeon_enqueue's
    // texts, or the number of messages an ack deleted.
    sql: `
      CREATE FUNCTION pigeon_mailbox_writes(
        p_is_ack BOOLEAN[], p_devices BYTEA[], p_message_ids BYTEA[], p_envelopes BYTEA[],
        p_received_at BIGINT[], p_expires_at BIGINT[], p_max_messages BIGINT[], p_max_bytes BIGINT[],
        p_ack_ids BYTEA[], p_ack_starts INTEGER[], p_ack_ends INTEGER[]
      ) RETURNS TEXT[] LANGUAGE plpgsql AS $fn$
      DECLARE
        n INTEGER := coalesce(array_length(p_devices, 1), 0);
        outcomes TEXT[] := array_fill(NULL::TEXT, ARRAY[n]);
      BEGIN
        FOR i IN 1 .. n LOOP
          IF p_is_ack[i] THEN
            outcomes[i] := pigeon_ack(p_devices[i], p_ack_ids[p_ack_starts[i]:p_ack_ends[i]])::TEXT;
          ELSE
            outcomes[i] := pigeon_enqueue(p_devices[i], p_message_ids[i], p_envelopes[i], p_received_at[i],
              p_expires_at[i], p_max_messages[i], p_max_bytes[i]);
          END IF;
        END LOOP;
        RETURN outcomes;
      END
      $fn$;
    `,
  },
  {
    version: 6,
    name: 'blobs',
    // Attachments of a cluster (blobs/postgres-blob-store.ts): any node must serve any blob, so
    // the records and the bytes live here, on the first shard. Bytes are rows of up to one PATCH
    // write batch each, keyed by their offset; distributed by blob_id (Citus-ready: the foreign
    // key joins tables that share it). Deleting a record deletes its bytes.
    sql: `
      CREATE TABLE blobs (
        blob_id BYTEA PRIMARY KEY,
        upload_hash BYTEA NOT NULL UNIQUE,
        account_id BYTEA NOT NULL,
        size BIGINT NOT NULL,
        committed BIGINT NOT NULL,
        complete BOOLEAN NOT NULL,
        sha256 BYTEA,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE INDEX blobs_by_account ON blobs (account_id);
      CREATE INDEX blobs_by_expiry ON blobs (expires_at);

      CREATE TABLE blob_chunks (
        blob_id BYTEA NOT NULL REFERENCES blobs (blob_id) ON DELETE CASCADE,
        at BIGINT NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (blob_id, at)
      );
      -- Ciphertext: compressing it only costs CPU.
      ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    `,
  },
];

export const LATEST_POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;
