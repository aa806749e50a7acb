/**
 * Node entry of @pigeon/client: everything from index.ts, plus PigeonClient.open(), which
 * keeps the profile in `<home>/pigeon.db` (SQLite) and dials relays with `ws`.
 */
import { mkdirSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { downloadForMessage, uploadForMessage, type DownloadAttachmentOptions, type SendAttachmentOptions } from './attachments/client-transfer.node.js';
import { safeFileName } from './attachments/reference.js';
import type { StoredMessage } from './types.js';
import { defaultBackend } from '@pigeon/crypto';
import type { CryptoBackend } from '@pigeon/crypto';
import { PigeonClient as PigeonClientCore, type ClientDeps } from './client.js';
import { ClientError } from './errors.js';
import { openSqliteStore } from './store/sqlite-store.node.js';
import { SqliteGroupStore } from './groups/sqlite-group-store.node.js';
import { NodeGroupManager } from './groups/group-transfer.node.js';
import type { GroupManager } from './groups/manager.js';
import type { ConnectionTuning } from './transport/relay-connection.js';
import { nodeSocketFactory } from './transport/ws-socket.node.js';
import type { SocketFactory } from './transport/socket.js';
import type { Logger } from './types.js';

export * from './index.js';
export * from './attachments/index.node.js';
export { openSqliteStore, SqliteClientStore, migrate } from './store/sqlite-store.node.js';
export { SqliteGroupStore } from './groups/sqlite-group-store.node.js';
export { NodeGroupManager } from './groups/group-transfer.node.js';
export { nodeSocketFactory, WS_HANDSHAKE_TIMEOUT_MS } from './transport/ws-socket.node.js';

export const DATABASE_FILE = 'pigeon.db';

export interface ClientOptions {
  /** Profile directory; created with mode 0700. The database is home/pigeon.db (mode 0600). */
  readonly home: string;
  readonly crypto?: CryptoBackend;
  readonly now?: () => number;
  /** Receives event names and non-secret fields only. */
  readonly logger?: Logger;
  readonly connection?: ConnectionTuning;
  readonly connectTimeoutMs?: number;
  /** How to reach relays; default the plain `ws` socket. @pigeon/transport's RouteRacer fits here. */
  readonly socketFactory?: SocketFactory;
}

export class PigeonClient extends PigeonClientCore {
  /** Groups, with the file-based `sendAttachment` (groups/group-transfer.node.ts). */
  declare readonly groups: NodeGroupManager;

  protected override makeGroups(...args: ConstructorParameters<typeof GroupManager>): GroupManager {
    return new NodeGroupManager(...args);
  }

  /** As the core's create(), but a Node client (with the file-based attachment methods). */
  static override async create(deps: ClientDeps): Promise<PigeonClient> {
    const client = new PigeonClient(deps);
    await client.load();
    return client;
  }

  /**
   * Encrypts the file with a fresh key, uploads it to our relay's blob store (resuming after
   * dropped connections) and sends the reference to every device of the contact.
   */
  async sendAttachment(contact: string, filePath: string, options: SendAttachmentOptions = {}): Promise<StoredMessage> {
    const target = this.findContact(contact);
    if (target.keyChanged) throw new ClientError('IDENTITY_CHANGED', "this contact's keys changed; acknowledge the change before sending");
    const { reference } = await uploadForMessage(this.attachmentUploader(), filePath, options);
    return this.sendAttachmentReference(target.id, reference, options.caption ?? '');
  }

  /**
   * Downloads, verifies and decrypts a message's attachment to `destPath` (a file, or an existing
   * directory to put it in under its own name; default: the current directory).
   */
  async downloadAttachment(messageId: string, destPath = '.', options: DownloadAttachmentOptions = {}): Promise<{ path: string; size: number }> {
    const reference = this.attachmentReference(messageId);
    let path = destPath;
    try {
      if (reference && statSync(destPath).isDirectory()) path = join(destPath, safeFileName(reference.fileName));
    } catch {
      // does not exist yet: a file path
    }
    return downloadForMessage(this.attachmentUploader().crypto, reference, path, options);
  }

  static async open(options: ClientOptions): Promise<PigeonClient> {
    if (!options.home) throw new ClientError('BAD_ARGUMENT', 'a profile directory is required');
    try {
      mkdirSync(options.home, { recursive: true, mode: 0o700 });
      chmodSync(options.home, 0o700);
    } catch (cause) {
      throw new ClientError('STORE_ERROR', `cannot create the profile directory ${options.home}`, { cause });
    }
    const store = openSqliteStore(join(options.home, DATABASE_FILE));
    const client = new PigeonClient({
      store,
      groupStore: new SqliteGroupStore(store.db),
      crypto: options.crypto ?? defaultBackend(),
      socketFactory: options.socketFactory ?? nodeSocketFactory,
      now: options.now,
      logger: options.logger,
      connection: options.connection,
      connectTimeoutMs: options.connectTimeoutMs,
    });
    try {
      await client.load();
    } catch (err) {
      store.close();
      throw new ClientError('STORE_ERROR', 'the profile database is damaged', { cause: err });
    }
    return client;
  }
}
