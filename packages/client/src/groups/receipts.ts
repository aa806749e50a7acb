/**
 * Group delivery and read receipts (docs/protocol.md §12.8): what the author's copy of a group
 * message shows. Each member's devices tell the author pairwise (content type `group`, kind
 * `receipt`); the author keeps one row per member (GroupStore.putReceipt, only forward) and the
 * message's state is the weakest of its audience, WhatsApp's rule: 'delivered' once EVERY
 * member of the audience has at least one device that got it, 'read' once every one read it.
 */
import { equalBytes } from '@pigeon/crypto';
import type { GroupMember, GroupRoster } from '@pigeon/protocol';
import type { DeliveryState } from '../types.js';
import type { GroupReceiptRow } from './store.js';

/** How far along each state is; receipts only ever move a message forward (like core/receive.ts). */
export const GROUP_STATE_RANK: Record<DeliveryState, number> = { failed: 0, queued: 0, sent: 1, delivered: 2, read: 3 };

/**
 * The members a message waits for: everyone in the CURRENT roster but us who had joined when
 * we sent it (`sentEpoch`, null when unknown: everyone). A member removed since no longer
 * counts; a newcomer, who never got the message, never holds it back.
 */
export function audienceOf(roster: GroupRoster, ownAccountKey: Uint8Array, sentEpoch: number | null): GroupMember[] {
  return roster.members.filter((m) => !equalBytes(m.accountKey, ownAccountKey) && (sentEpoch === null || m.joinedEpoch <= sentEpoch));
}

/** 'read' / 'delivered' when the whole audience is that far (by account id), else null. */
export function audienceState(audienceIds: readonly string[], receipts: readonly GroupReceiptRow[]): 'delivered' | 'read' | null {
  if (audienceIds.length === 0) return null;
  const byMember = new Map(receipts.map((r) => [r.memberId, r.state]));
  let allRead = true;
  for (const id of audienceIds) {
    const state = byMember.get(id);
    if (state === undefined) return null;
    if (state !== 'read') allRead = false;
  }
  return allRead ? 'read' : 'delivered';
}
