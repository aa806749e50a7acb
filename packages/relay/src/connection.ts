/**
 * One client WebSocket: the request state machine of docs/relay-api.md ("Auth flow",
 * "Delivery semantics"). Frames of one connection are handled in order (a chain of promises)
 * so that e.g. an upload pipelined right after `auth` sees the authenticated state; writes that
 * wait for a group commit (send, ack) leave the chain early and answer when committed, so a
 * client can pipeline many sends.
 */
import {
  API_VERSION,
  ApiDecodeError,
  CHALLENGE_NONCE_BYTES,
  CLIENT_FRAME_BY_BYTE,
  CLIENT_FRAME_TYPES,
  CLOSE_CODES,
  MAX_ERROR_MESSAGE_BYTES,
  QUIET_ACK_ID,
  RelayError,
  decodeClientFrame,
  encodeRelayFrame,
  type AckFrame,
  type AuthFrame,
  type ClientFrame,
  type FetchBundlesFrame,
  type RegisterFrame,
  type RelayErrorCode,
  type RelayFrame,
  type SendFrame,
  type SetDeliveryTokensFrame,
  type UploadPreKeysFrame,
} from '@pigeon/api';
import type { WireSocket } from './wire/wire-socket.js';
import { deviceKey, type OnlineConnection, type PushedMessage, type RelayContext } from './context.js';
import type { MailboxProbe } from './store/types.js';
import { TokenBucket } from './rate-limit.js';
import { LinkedDevices, requireListed } from './linked-devices.js';

interface AuthenticatedDevice {
  readonly id: Uint8Array;
  readonly key: string;
  readonly accountId: Uint8Array;
}

const REQUIRES_AUTH: ReadonlySet<ClientFrame['type']> = new Set(['upload_prekeys', 'prekey_status', 'ack', 'set_delivery_tokens', 'put_device_list']);

export class Connection implements OnlineConnection {
  readonly openedAt: number;
  /** Monotonic time of the last frame received; -1 before the first one. */
  lastFrameAt = -1;
  lastPingAt: number;
  awaitingPong = false;
  private closed = false;
  private nonce: Uint8Array | null;
  private device: AuthenticatedDevice | null = null;
  private chain: Promise<void> = Promise.resolve();
  private badFrames = 0;
  private strikes = 0;
  private readonly bucket: TokenBucket;
  // Delivery state (docs/relay-api.md "Delivery semantics").
  private readonly inFlight = new Set<string>();
  private cursor = 0;
  private pumping = false;
  private currentPump: Promise<number> = Promise.resolve(0);
  private pumpAgain = false;
  private queueEmptySent = false;
  /**
   * The last mailbox read found nothing beyond what was sent, and every message stored since was
   * pushed straight from memory (wake with a message): nothing in the store with seq > cursor is
   * unsent. Only then may a new message skip the store read, and an ack skip the re-read.
   */
  private caughtUp = false;
  /**
   * Ids acknowledged while a mailbox read was in flight (created on first use). That read may have
   * been answered from before the ack's commit (an asynchronous store, PostgreSQL): it must not
   * hand those out again. Cleared when the read's rows have been handled.
   */
  private ackedDuringRead: Set<string> | null = null;
  /** Device lists and provisioning mailboxes (linked-devices.ts); created on first use (idle connections never need it). */
  private linkedDevices: LinkedDevices | null = null;

  constructor(
    private readonly ws: WireSocket,
    readonly address: string,
    private readonly ctx: RelayContext,
  ) {
    const now = ctx.monotonic();
    this.openedAt = now;
    this.lastPingAt = now;
    this.bucket = new TokenBucket(ctx.limits.connectionFramesPerSecond, ctx.limits.connectionFrameBurst, now);
    this.nonce = ctx.crypto.randomBytes(CHALLENGE_NONCE_BYTES);
    ws.onMessage = (data, isBinary) => this.onMessage(data, isBinary);
    ws.onPong = () => {
      this.awaitingPong = false;
    };
    this.send({ type: 'challenge', nonce: this.nonce, relayTime: ctx.clock.now() });
  }

  private get linked(): LinkedDevices {
    this.linkedDevices ??= new LinkedDevices(this.ctx, { send: (frame) => this.send(frame), device: () => this.device });
    return this.linkedDevices;
  }

  get authenticated(): boolean {
    return this.device !== null;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Called by the server when the socket has closed (for any reason). */
  onClosed(): void {
    this.closed = true;
    this.linkedDevices?.close();
    if (this.device) this.ctx.devices.release(this.device.key, this);
    this.inFlight.clear();
  }

  close(code: number, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    if (this.device) this.ctx.devices.release(this.device.key, this);
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.closed = true;
    if (this.device) this.ctx.devices.release(this.device.key, this);
    this.ws.terminate();
  }

  replace(): void {
    this.device = null; // the directory already points at the new connection
    this.close(CLOSE_CODES.REPLACED, 'replaced');
  }

  /** The device was removed from its account's signed device list (linked-devices.ts). */
  revoke(): void {
    this.device = null;
    this.close(CLOSE_CODES.REVOKED, 'revoked');
  }

  wake(message?: PushedMessage): void {
    if (message !== undefined && this.pushDirect(message)) return;
    void this.pump();
  }

  sweep(): Promise<number> {
    return this.pump();
  }

  sweepProbe(): MailboxProbe | undefined {
    // Caught up: everything in the mailbox up to the cursor was sent, so "mail after the cursor"
    // is all a sweep needs to know (messages pushed from memory also count: a harmless read).
    if (!this.caughtUp || this.pumping || this.closed || this.device === null) return undefined;
    return { deviceId: this.device.id, afterSeq: this.cursor };
  }

  /** Deliveries sent on this connection and not yet acknowledged. */
  get deliveriesInFlight(): number {
    return this.inFlight.size;
  }

  ping(now: number): void {
    this.awaitingPong = true;
    this.lastPingAt = now;
    this.ws.ping();
  }

  // ---- input -----------------------------------------------------------------------

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    const now = this.ctx.monotonic();
    this.lastFrameAt = now;

    const wait = this.takeToken(now);
    if (wait > 0) {
      this.strikes++;
      if (this.strikes > this.ctx.limits.maxRateLimitStrikes) {
        this.ctx.logger.warn('connection_closed', { reason: 'rate_limited' });
        this.close(CLOSE_CODES.RATE_LIMITED, 'rate limited');
        return;
      }
      this.sendError(peekRequestId(data), 'RATE_LIMITED', 'slow down', wait);
      return;
    }
    this.strikes = 0;

    // Refused before decoding while the relay is full: under a flood of sends the refusals must
    // cost as little as possible, or they eat the capacity the accepted sends need.
    if (this.ctx.admission.full && isBinary && data.length >= 6 && data[0] === API_VERSION && data[1] === CLIENT_FRAME_TYPES.send) {
      this.ctx.admission.refuse();
      this.refuseBusy(data.readUInt32BE(2));
      return;
    }

    let frame: ClientFrame;
    try {
      if (!isBinary) throw new ApiDecodeError('BAD_FRAME', 'text frames are not accepted');
      frame = decodeClientFrame(data);
    } catch (e) {
      const error = e instanceof ApiDecodeError ? e : new ApiDecodeError('BAD_FRAME', 'undecodable frame');
      if (error.code !== 'LIMIT_EXCEEDED') {
        this.badFrames++;
        if (this.badFrames >= this.ctx.limits.maxBadFrames) {
          this.ctx.logger.warn('connection_closed', { reason: 'bad_frames' });
          this.sendError(error.requestId, error.code, error.message);
          this.close(CLOSE_CODES.BAD_FRAMES, 'bad frames');
          return;
        }
      }
      this.sendError(error.requestId, error.code, error.message);
      return;
    }
    this.chain = this.chain.then(() => this.handle(frame));
  }

  /** Both the connection's and the address's bucket must have a token. */
  private takeToken(now: number): number {
    const own = this.bucket.take(now);
    if (own > 0) return own;
    const shared = this.ctx.addressBucket(this.address).take(now);
    if (shared > 0) {
      this.bucket.refund();
      return shared;
    }
    return 0;
  }

  private async handle(frame: ClientFrame): Promise<void> {
    if (this.closed) return;
    try {
      if (REQUIRES_AUTH.has(frame.type) && this.device === null) {
        throw new RelayError('NOT_AUTHENTICATED', 'authenticate first');
      }
      switch (frame.type) {
        case 'register':
          return await this.onRegister(frame);
        case 'auth':
          return await this.onAuth(frame);
        case 'upload_prekeys':
          return await this.onUploadPreKeys(frame);
        case 'prekey_status': {
          const counts = await this.ctx.store.preKeyCounts(this.device!.id);
          this.send({ type: 'prekey_status_result', id: frame.id, ...counts });
          return;
        }
        case 'fetch_bundles':
          return await this.onFetchBundles(frame);
        case 'send':
          return await this.onSend(frame);
        case 'ack':
          return this.onAck(frame);
        case 'set_delivery_tokens':
          return await this.onSetDeliveryTokens(frame);
        case 'ping':
          this.send({ type: 'pong', id: frame.id });
          return;
        case 'put_device_list':
          return await this.linked.putDeviceList(frame);
        case 'fetch_device_list':
          return await this.linked.fetchDeviceList(frame);
        case 'fetch_device_bundles':
          return await this.linked.fetchDeviceBundles(frame);
        case 'provision_open':
          return await this.linked.provisionOpen(frame);
        case 'provision_send':
          return await this.linked.provisionSend(frame);
      }
    } catch (e) {
      this.fail(frame.id, e);
    }
  }

  /** Answers a failed request: its RelayError code, or INTERNAL (logged, never echoed) for anything else. */
  private fail(id: number, e: unknown): void {
    if (e instanceof RelayError) {
      this.sendError(id, e.code, e.message, e.retryAfterMs);
    } else {
      this.ctx.logger.error('request_failed', { error: e instanceof Error ? e.name : 'unknown' });
      this.sendError(id, 'INTERNAL', 'internal error');
    }
  }

  // ---- auth --------------------------------------------------------------------------

  /** The challenge is single use: any register/auth attempt consumes it, successful or not. */
  private takeNonce(): Uint8Array | null {
    const nonce = this.nonce;
    this.nonce = null;
    return nonce;
  }

  private async onRegister(frame: RegisterFrame): Promise<void> {
    if (this.device) throw new RelayError('ALREADY_AUTHENTICATED', 'already authenticated');
    const nonce = this.takeNonce();
    const certified = await this.ctx.verifier.verifyCertificate(frame.certificate);
    if (nonce === null || !(await this.ctx.verifier.verifyChallenge(certified.deviceSigningKey, nonce, frame.signature))) {
      throw new RelayError('AUTH_FAILED', 'challenge signature does not verify');
    }
    await requireListed(this.ctx, certified.accountId, frame.certificate);
    const result = await this.ctx.store.registerDevice(
      {
        deviceId: certified.deviceId,
        accountId: certified.accountId,
        signingKey: certified.deviceSigningKey,
        certificate: frame.certificate,
        registeredAt: this.ctx.clock.now(),
      },
      this.ctx.limits.maxDevicesPerAccount,
    );
    if (result === 'account_full') throw new RelayError('LIMIT_EXCEEDED', 'too many devices on this account');
    if (result === 'account_mismatch') throw new RelayError('BAD_CERTIFICATE', 'device belongs to another account');
    this.ctx.logger.info('device_registered', { created: result === 'created' });
    this.authenticate(frame.id, certified.deviceId, certified.accountId);
  }

  private async onAuth(frame: AuthFrame): Promise<void> {
    if (this.device) throw new RelayError('ALREADY_AUTHENTICATED', 'already authenticated');
    const nonce = this.takeNonce();
    const device = await this.ctx.store.getDevice(frame.deviceId);
    if (nonce === null || device === undefined || !(await this.ctx.verifier.verifyChallenge(device.signingKey, nonce, frame.signature))) {
      throw new RelayError('AUTH_FAILED', 'authentication failed');
    }
    this.authenticate(frame.id, device.deviceId, device.accountId);
  }

  private authenticate(requestId: number, deviceId: Uint8Array, accountId: Uint8Array): void {
    if (this.closed) return;
    const key = deviceKey(deviceId);
    this.device = { id: deviceId, key, accountId };
    this.ctx.devices.claim(key, this)?.replace();
    this.send({ type: 'ok', id: requestId });
    void this.pump();
  }

  // ---- prekeys -----------------------------------------------------------------------

  private async onUploadPreKeys(frame: UploadPreKeysFrame): Promise<void> {
    const { store, verifier, limits } = this.ctx;
    const device = await store.getDevice(this.device!.id);
    if (device === undefined) throw new RelayError('NOT_AUTHENTICATED', 'device no longer registered');
    const checks: Promise<boolean>[] = [];
    if (frame.signedPreKey) checks.push(verifier.verifyPreKey(device.signingKey, 'signed', frame.signedPreKey));
    if (frame.kemLastResortPreKey) checks.push(verifier.verifyPreKey(device.signingKey, 'kem', frame.kemLastResortPreKey));
    for (const k of frame.kemOneTimePreKeys) checks.push(verifier.verifyPreKey(device.signingKey, 'kem', k));
    const results = await Promise.all(checks);
    if (results.includes(false)) throw new RelayError('BAD_SIGNATURE', 'a prekey signature does not verify');
    const outcome = await store.putPreKeys(device.deviceId, frame, limits.maxOneTimePreKeysPerKind);
    if (outcome === 'limit') throw new RelayError('LIMIT_EXCEEDED', 'too many one-time prekeys stored');
    this.send({ type: 'ok', id: frame.id });
  }

  private async onFetchBundles(frame: FetchBundlesFrame): Promise<void> {
    const { store, verifier } = this.ctx;
    if (!(await store.accountExists(frame.accountId))) throw new RelayError('UNKNOWN_ACCOUNT', 'unknown account');
    await this.requireToken(frame.accountId, frame.deliveryToken);
    const taken = await store.takePreKeyBundles(frame.accountId);
    if (taken === undefined) throw new RelayError('UNKNOWN_ACCOUNT', 'unknown account');
    if (taken.length === 0) throw new RelayError('NO_PREKEYS', 'no device of this account has uploaded prekeys');
    const bundles = taken.map((t) => verifier.encodeBundle(t.device.certificate, t.signedPreKey, t.oneTimePreKey, t.kemPreKey));
    this.send({ type: 'bundles', id: frame.id, bundles });
  }

  // ---- delivery tokens ---------------------------------------------------------------

  private async hashToken(token: Uint8Array): Promise<Uint8Array> {
    return this.ctx.crypto.sha256(token);
  }

  private async requireToken(accountId: Uint8Array, token: Uint8Array): Promise<void> {
    if (token.length === 0 || !(await this.ctx.store.hasDeliveryToken(accountId, await this.hashToken(token)))) {
      throw new RelayError('BAD_DELIVERY_TOKEN', 'delivery token refused');
    }
  }

  private async onSetDeliveryTokens(frame: SetDeliveryTokensFrame): Promise<void> {
    const add = await Promise.all(frame.add.map((t) => this.hashToken(t)));
    const remove = await Promise.all(frame.remove.map((t) => this.hashToken(t)));
    const outcome = await this.ctx.store.setDeliveryTokens(this.device!.accountId, add, remove, this.ctx.limits.maxDeliveryTokensPerAccount);
    // Even when refused: the cache may have been filled while the change was in flight.
    this.ctx.sendAuth.forgetAccount(this.device!.accountId);
    if (outcome === 'limit') throw new RelayError('LIMIT_EXCEEDED', 'too many delivery tokens on this account');
    this.send({ type: 'ok', id: frame.id });
  }

  // ---- mailbox -----------------------------------------------------------------------

  // The send-auth checks (send-auth-cache.ts). A cache hit costs no store read and no extra
  // promise: onSend calls these only on a miss, and hashes the token itself (one await per send).

  /** The recipient's account from the store, remembered in the cache. */
  private async lookUpRecipient(key: string, deviceId: Uint8Array): Promise<{ readonly accountId: Uint8Array; readonly accountHex: string }> {
    const cache = this.ctx.sendAuth;
    const epoch = cache.epoch;
    const recipient = await this.ctx.store.getDevice(deviceId);
    if (recipient === undefined) throw new RelayError('UNKNOWN_RECIPIENT', 'unknown recipient device');
    return cache.rememberRecipient(key, recipient.accountId, epoch);
  }

  /** The token (by hash) checked in the store, remembered in the cache when valid. */
  private async lookUpSendToken(account: { readonly accountId: Uint8Array; readonly accountHex: string }, hash: Uint8Array): Promise<void> {
    const cache = this.ctx.sendAuth;
    const epoch = cache.epoch;
    if (!(await this.ctx.store.hasDeliveryToken(account.accountId, hash))) throw new RelayError('BAD_DELIVERY_TOKEN', 'delivery token refused');
    cache.rememberToken(account.accountHex, hash, epoch);
  }

  private async onSend(frame: SendFrame): Promise<void> {
    const { store, limits, clock, admission } = this.ctx;
    // Counted until answered; over the bound the send is refused, to be retried (admission.ts).
    if (!admission.tryBegin()) {
      this.refuseBusy(frame.id);
      return;
    }
    let handedOff = false;
    try {
      const key = deviceKey(frame.recipientDeviceId);
      const recipient = this.ctx.sendAuth.recipient(key) ?? (await this.lookUpRecipient(key, frame.recipientDeviceId));
      if (frame.deliveryToken.length === 0) throw new RelayError('BAD_DELIVERY_TOKEN', 'delivery token refused');
      const tokenHash = await this.ctx.crypto.sha256(frame.deliveryToken);
      if (!this.ctx.sendAuth.hasToken(recipient.accountHex, tokenHash)) await this.lookUpSendToken(recipient, tokenHash);
      const now = clock.now();
      const message: PushedMessage = { messageId: frame.messageId, envelope: frame.envelope, receivedAt: now };
      // Not awaited on the chain: the reply goes out when the group commit lands (ok after commit).
      handedOff = true;
      store
        .enqueue(
          { recipientDeviceId: frame.recipientDeviceId, messageId: frame.messageId, envelope: frame.envelope, receivedAt: now, expiresAt: now + this.ctx.messageTtlMs },
          { maxMessages: limits.mailboxMaxMessages, maxBytes: limits.mailboxMaxBytes },
        )
        .then(
          (result) => {
            admission.end();
            this.ctx.metrics.messagesIn.inc({ result });
            if (result === 'full') {
              this.sendError(frame.id, 'MAILBOX_FULL', 'recipient mailbox is full');
              return;
            }
            this.send({ type: 'ok', id: frame.id });
            if (result === 'stored') this.ctx.devices.notify(key, message);
          },
          (e: unknown) => {
            admission.end();
            this.ctx.metrics.messagesIn.inc({ result: 'error' });
            this.fail(frame.id, e);
          },
        );
    } finally {
      if (!handedOff) admission.end();
    }
  }

  private onAck(frame: AckFrame): void {
    const device = this.device!;
    const quiet = frame.id === QUIET_ACK_ID;
    this.ctx.store.ack(device.id, frame.messageIds).then(
      () => {
        this.ctx.metrics.acks.inc(undefined, frame.messageIds.length);
        for (const id of frame.messageIds) {
          const key = deviceKey(id);
          this.inFlight.delete(key);
          if (this.pumping) (this.ackedDuringRead ??= new Set()).add(key);
        }
        if (!quiet) this.send({ type: 'ok', id: frame.id });
        // Caught up: nothing unsent waits in the store after the cursor, and new mail wakes this
        // connection after its commit (a local wake or a doorbell; a lost doorbell is swept), so
        // the ack needs no read. This holds for every store: seq order is commit order per mailbox.
        if (!this.caughtUp || this.pumping) void this.pump();
      },
      (e: unknown) => {
        if (!quiet) return this.fail(frame.id, e);
        // No reply to carry the error, and the window stays full until these acks commit: start
        // over on a new connection, which delivers the unacknowledged messages again.
        const code = (e as { code?: unknown } | null)?.code;
        this.ctx.logger.error('quiet_ack_failed', { error: typeof code === 'string' ? code : 'unknown' });
        this.close(CLOSE_CODES.INTERNAL, 'ack failed');
      },
    );
  }

  /**
   * A message just committed for this device, pushed from memory instead of re-read from the
   * store, when that cannot reorder or skip anything: the connection is caught up (see caughtUp)
   * and has room in its window. The cursor is not moved (the message's seq is not known); a later
   * read that returns it again skips it because it is in flight, so it is never sent twice on
   * this connection, nor after its ack (ackedDuringRead). Store commits of one mailbox resolve in
   * seq order (RelayStore.resolvesInCommitOrder), so pushing in notification order is seq order;
   * mail another node stored rings a doorbell and is read, never pushed.
   */
  private pushDirect(m: PushedMessage): boolean {
    const device = this.device;
    if (!this.caughtUp || this.pumping || this.closed || device === null || !this.ctx.store.resolvesInCommitOrder) return false;
    if (this.inFlight.size >= this.ctx.limits.deliveryWindow) return false;
    const id = deviceKey(m.messageId);
    // Already sent here and not acknowledged (a store read between the commit and this
    // notification found it): never twice on one connection.
    if (this.inFlight.has(id)) return true;
    this.inFlight.add(id);
    this.send({ type: 'deliver', messageId: m.messageId, envelope: m.envelope, receivedAt: m.receivedAt });
    this.ctx.metrics.messagesOut.inc();
    return true;
  }

  /**
   * Pushes stored mail in seq order, keeping at most `deliveryWindow` deliveries unacknowledged;
   * acks open the window again. After the first time the mailbox is drained, `queue_empty`.
   */
  private pump(): Promise<number> {
    this.caughtUp = false;
    if (this.pumping) {
      // The running loop reads the store once more before it ends; its count includes ours.
      this.pumpAgain = true;
      return this.currentPump;
    }
    this.pumping = true;
    this.currentPump = this.pumpLoop();
    return this.currentPump;
  }

  /** Resolves with how many messages it delivered, -1 when the store failed (the sweeper retries). */
  private async pumpLoop(): Promise<number> {
    let delivered = 0;
    try {
      do {
        this.pumpAgain = false;
        const device = this.device;
        if (device === null || this.closed) return delivered;
        const window = this.ctx.limits.deliveryWindow;
        let drained = false;
        while (!this.closed && this.device === device && this.inFlight.size < window) {
          const want = window - this.inFlight.size;
          const batch = await this.ctx.store.pending(device.id, this.cursor, this.ctx.clock.now(), want);
          if (this.closed || this.device !== device) return delivered;
          let sent = 0;
          const acked = this.ackedDuringRead;
          this.ackedDuringRead = null; // the next read starts after these acks committed
          for (const m of batch) {
            this.cursor = m.seq;
            const id = deviceKey(m.messageId);
            if (this.inFlight.has(id)) continue; // pushed from memory before this read (pushDirect)
            if (acked?.has(id)) continue; // pushed, then acknowledged while this read was out
            this.inFlight.add(id);
            this.send({ type: 'deliver', messageId: m.messageId, envelope: m.envelope, receivedAt: m.receivedAt });
            sent++;
          }
          delivered += sent;
          this.ctx.metrics.messagesOut.inc(undefined, sent);
          if (batch.length < want) {
            drained = true;
            break;
          }
        }
        if (drained && !this.queueEmptySent && !this.closed) {
          this.queueEmptySent = true;
          this.send({ type: 'queue_empty' });
        }
        this.caughtUp = drained && !this.pumpAgain;
      } while (this.pumpAgain && !this.closed);
      return delivered;
    } catch (e) {
      this.caughtUp = false;
      this.ctx.logger.error('delivery_failed', { error: e instanceof Error ? e.name : 'unknown' });
      if (this.device !== null && !this.closed) this.ctx.devices.deliveryFailed(this.device.key, this);
      return -1;
    } finally {
      // Synchronously after the last pumpAgain check, so a wake() in between is never lost.
      this.pumping = false;
    }
  }

  // ---- output ------------------------------------------------------------------------

  private send(frame: RelayFrame): void {
    if (this.closed) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeRelayFrame(frame);
    } catch {
      this.ctx.logger.error('encode_failed', { type: frame.type });
      if ('id' in frame && frame.type !== 'error') this.sendError(frame.id, 'INTERNAL', 'internal error');
      return;
    }
    this.ws.send(bytes); // leaves with the tick's other frames in one write (wire-socket.ts)
    if (this.ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) {
      this.ctx.logger.warn('connection_closed', { reason: 'not_reading' });
      this.terminate();
    }
  }

  /** A send the relay has no room for: RATE_LIMITED with a short, jittered retryAfterMs (admission.ts). */
  private refuseBusy(id: number): void {
    this.ctx.metrics.messagesIn.inc({ result: 'busy' });
    this.sendError(id, 'RATE_LIMITED', 'relay busy, send again later', this.ctx.admission.retryAfterMs());
  }

  private sendError(id: number, code: RelayErrorCode, message: string, retryAfterMs = 0): void {
    this.send({ type: 'error', id, code, message: truncateMessage(message), retryAfterMs: Math.min(retryAfterMs, 0xffffffff) });
  }
}

/** The request id of a frame we refuse to decode (rate limited), when the bytes look like one. */
function peekRequestId(data: Buffer): number {
  if (data.length >= 6 && data[0] === API_VERSION && CLIENT_FRAME_BY_BYTE.has(data[1]!)) return data.readUInt32BE(2);
  return 0;
}

/** Error texts are ours, but clip them to the wire bound so an error reply can never fail to encode. */
function truncateMessage(message: string): string {
  let out = message;
  while (Buffer.byteLength(out, 'utf8') > MAX_ERROR_MESSAGE_BYTES) out = out.slice(0, -1);
  return out;
}
