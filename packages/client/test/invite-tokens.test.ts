/**
 * The invite-token list (message-life/invite-tokens.ts) without a relay: what is added, removed
 * and forgotten when, the cap, and a damaged stored list.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INVITE_TTL_MS } from '../src/limits.js';
import {
  afterSync,
  dueChanges,
  INVITE_TOKEN_GRACE_MS,
  MAX_INVITE_TOKENS,
  parseInviteTokens,
  serializeInviteTokens,
  withBlockedContact,
  withNewToken,
  withUsedInvite,
} from '../src/message-life/invite-tokens.js';

const tokens = (list: { token: string }[]) => list.map((t) => t.token);

describe('invite tokens', () => {
  it('a new token is added once; after the relay took it, nothing is due until it expires', () => {
    let list = withNewToken([], 't1', 's1', 1000);
    assert.deepEqual(tokens(dueChanges(list, 1000).add), ['t1']);
    list = afterSync(list, new Set(['t1']), new Set(), new Set());
    assert.deepEqual(dueChanges(list, 2000), { add: [], remove: [], forget: [] });
    assert.deepEqual(tokens(dueChanges(list, 1000 + INVITE_TTL_MS).remove), ['t1']);
    assert.deepEqual(afterSync(list, new Set(), new Set(['t1']), new Set()), []);
  });

  it('a used invite lives on for the grace period; blocking its contact retires it now', () => {
    let list = afterSync(withNewToken([], 't1', 's1', 0), new Set(['t1']), new Set(), new Set());
    list = withUsedInvite(list, 's1', 'c1', 5000);
    assert.equal(list[0]!.contactId, 'c1');
    assert.deepEqual(dueChanges(list, INVITE_TTL_MS).remove, []);
    assert.deepEqual(tokens(dueChanges(list, 5000 + INVITE_TOKEN_GRACE_MS).remove), ['t1']);
    const blocked = withBlockedContact(list, 'c1', 6000);
    assert.deepEqual(tokens(dueChanges(blocked, 6000).remove), ['t1']);
    // Another contact's block leaves it alone.
    assert.deepEqual(dueChanges(withBlockedContact(list, 'c2', 6000), 6000).remove, []);
  });

  it('a token retired before the relay ever took it is forgotten without asking the relay', () => {
    const list = withBlockedContact(withUsedInvite(withNewToken([], 't1', 's1', 0), 's1', 'c1', 1), 'c1', 2);
    assert.deepEqual(dueChanges(list, 2), { add: [], remove: [], forget: list });
  });

  it('beyond MAX_INVITE_TOKENS the oldest unused token retires', () => {
    let list = withUsedInvite(withNewToken([], 'used', 'su', 0), 'su', 'c', 0);
    for (let i = 0; i < MAX_INVITE_TOKENS; i++) list = withNewToken(list, `t${i}`, `s${i}`, 10);
    const retired = list.filter((t) => t.retireAt === 10).map((t) => t.token);
    assert.deepEqual(retired, ['t0']);
    assert.equal(list.filter((t) => (t.retireAt ?? t.expiresAt) > 10).length, MAX_INVITE_TOKENS);
  });

  it('a damaged stored list reads as the entries that are whole', () => {
    const good = withNewToken([], 't1', 's1', 0);
    assert.deepEqual(parseInviteTokens(serializeInviteTokens(good)), good);
    assert.deepEqual(parseInviteTokens('{not json'), []);
    assert.deepEqual(parseInviteTokens(JSON.stringify({ token: 't' })), []);
    assert.deepEqual(parseInviteTokens(JSON.stringify([good[0], { token: 1 }, null])), good);
    assert.deepEqual(parseInviteTokens(undefined), []);
  });
});
