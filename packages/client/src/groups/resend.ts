/**
 * Copies of a group message that a member could not use (docs/protocol.md §12.9): the member
 * names the copy by the sender key's distribution id and iteration, which every sender-key
 * message carries in its clear header: version(1) || distributionId(16) || iteration(u32, big endian).
 */
import { toHex } from '@pigeon/crypto';
import { GROUP_DISTRIBUTION_ID_BYTES } from './payload.js';

/** Requests answered per message and requesting device; a copy that fails again after that stays lost (logged). */
export const MAX_RESENDS_PER_DEVICE = 3;
/** Copies we asked for (per sender device, key and iteration) and re-send counts kept in memory; each set is cleared past this. */
export const MAX_ASKED_REMEMBERED = 10_000;

export interface CopyRef {
  /** hex distribution id. */
  readonly distributionId: string;
  readonly iteration: number;
}

/** The copy a sender-key message is (null for garbage). */
export function copyRefOf(message: Uint8Array): CopyRef | null {
  const headerBytes = 1 + GROUP_DISTRIBUTION_ID_BYTES + 4;
  if (message.length < headerBytes) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return { distributionId: toHex(message.subarray(1, 1 + GROUP_DISTRIBUTION_ID_BYTES)), iteration: view.getUint32(1 + GROUP_DISTRIBUTION_ID_BYTES) };
}
