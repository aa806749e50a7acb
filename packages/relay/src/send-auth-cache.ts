/**
 * What a `send` checks before it enqueues (docs/relay-api.md "Delivery semantics"): that the
 * recipient device exists, and that the delivery token is one of its account's. Both are store
 * reads on every send; this bounded cache remembers the positive answers for a short time.
 *
 * - Only positive answers are cached: an unknown recipient or a refused token is read again
 *   every time, so a device registered or a token added anywhere works at once.
 * - This node drops the cache of an account when it changes the account's tokens or device
 *   list (connection.ts, linked-devices.ts), so a removed token or device is refused at once here.
 * - Another node's change is not seen: there a removed token or device may be accepted for at
 *   most SEND_AUTH_CACHE_TTL_MS. A send to a device removed meanwhile fails in the store (no
 *   mailbox) rather than reaching anyone.
 * - Keys are the token's SHA-256, as in the store: the cache holds no token.
 */
export const SEND_AUTH_CACHE_TTL_MS = 5000;
/** Entries per map; when full, the map is cleared (an ordinary miss costs one store read). */
export const SEND_AUTH_CACHE_MAX_ENTRIES = 50_000;

export class SendAuthCache {
  /** device hex -> account id and expiry. */
  private readonly devices = new Map<string, { readonly accountId: Uint8Array; readonly accountHex: string; readonly until: number }>();
  /** account hex + ':' + token-hash hex -> expiry. */
  private readonly tokens = new Map<string, number>();
  /** Bumped by forgetAccount: an answer read before a change is not remembered after it. */
  private generation = 0;

  constructor(
    private readonly monotonic: () => number,
    private readonly ttlMs = SEND_AUTH_CACHE_TTL_MS,
    private readonly maxEntries = SEND_AUTH_CACHE_MAX_ENTRIES,
  ) {}

  /** Read before a store lookup; pass it to remember*() so a lookup that raced a change is not cached. */
  get epoch(): number {
    return this.generation;
  }

  recipient(deviceHex: string): { readonly accountId: Uint8Array; readonly accountHex: string } | undefined {
    const hit = this.devices.get(deviceHex);
    if (hit === undefined) return undefined;
    if (hit.until <= this.monotonic()) {
      this.devices.delete(deviceHex);
      return undefined;
    }
    return hit;
  }

  rememberRecipient(deviceHex: string, accountId: Uint8Array, epoch: number): { readonly accountId: Uint8Array; readonly accountHex: string } {
    const entry = { accountId, accountHex: hex(accountId), until: this.monotonic() + this.ttlMs };
    if (epoch !== this.generation) return entry;
    if (this.devices.size >= this.maxEntries) this.devices.clear();
    this.devices.set(deviceHex, entry);
    return entry;
  }

  hasToken(accountHex: string, tokenHash: Uint8Array): boolean {
    const key = accountHex + ':' + hex(tokenHash);
    const until = this.tokens.get(key);
    if (until === undefined) return false;
    if (until <= this.monotonic()) {
      this.tokens.delete(key);
      return false;
    }
    return true;
  }

  rememberToken(accountHex: string, tokenHash: Uint8Array, epoch: number): void {
    if (epoch !== this.generation) return;
    if (this.tokens.size >= this.maxEntries) this.tokens.clear();
    this.tokens.set(accountHex + ':' + hex(tokenHash), this.monotonic() + this.ttlMs);
  }

  /** The account's tokens or device list changed on this node: forget everything about it. */
  forgetAccount(accountId: Uint8Array): void {
    this.generation++;
    const accountHex = hex(accountId);
    const prefix = accountHex + ':';
    for (const key of this.tokens.keys()) if (key.startsWith(prefix)) this.tokens.delete(key);
    for (const [key, entry] of this.devices) if (entry.accountHex === accountHex) this.devices.delete(key);
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
