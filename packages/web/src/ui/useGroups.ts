/**
 * The groups side of the signed-in app: loads `client.groups`, follows its live events, marks
 * the open group's messages read while the tab is visible, and follows the delivery state of our
 * group messages ('status' events; also a reload after a flush, so a state settled while no
 * listener saw it still shows).
 */
import { useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { GroupMessage, PigeonClient } from '@pigeon/client';
import { groupsReducer, initialGroupsState, unreadGroupIds } from '../logic/groups.js';
import type { GroupsAction, GroupsState } from '../logic/groups.js';

/** Messages loaded per group (the newest ones), like HISTORY_LIMIT for 1:1 chats. */
export const GROUP_HISTORY_LIMIT = 1000;

export interface GroupsApi {
  readonly state: GroupsState;
  readonly dispatch: (a: GroupsAction) => void;
  /** This device holds the account key (group changes are signed with it); null until known. */
  readonly hasAccountKey: boolean | null;
  /** Our message was just sent: show it, then show its state once the relay has it. */
  readonly sent: (m: GroupMessage) => void;
}

export function useGroups(client: PigeonClient, openGroupId: string | null, visible: boolean, onIncoming: (m: GroupMessage) => void): GroupsApi {
  const [state, dispatch] = useReducer(groupsReducer, initialGroupsState);
  const [hasAccountKey, setHasAccountKey] = useState<boolean | null>(null);
  const stateRef = useRef(state);
  stateRef.current = state;
  const incomingRef = useRef(onIncoming);
  incomingRef.current = onIncoming;

  const reload = (groupId: string) => dispatch({ type: 'reload', groupId, messages: client.groups.messages(groupId, { limit: GROUP_HISTORY_LIMIT }) });
  const settle = (groupId: string) => {
    client.flush().then(
      () => reload(groupId),
      () => reload(groupId), // offline: still queued; a later reconnect settles it
    );
  };

  useEffect(() => {
    const groups = client.groups.list();
    const messages: Record<string, GroupMessage[]> = {};
    for (const g of groups) messages[g.id] = client.groups.messages(g.id, { limit: GROUP_HISTORY_LIMIT });
    dispatch({ type: 'loaded', groups, messages });
    let live = true;
    client.devices.list().then(
      (devices) => live && setHasAccountKey(devices.some((d) => d.current && d.accountKeyHolder)),
      () => undefined,
    );
    const offs = [
      client.groups.on('group', (e) => dispatch({ type: 'group', group: e.group })),
      // Our message's delivery state changed (at the relay, members' receipts).
      client.groups.on('status', (m) => dispatch({ type: 'message', message: m })),
      client.groups.on('message', (m) => {
        dispatch({ type: 'message', message: m });
        if (m.direction === 'in') incomingRef.current(m);
      }),
      // A member who was not a contact may become one (from the group's cards): names change.
      client.on('contact', () => {
        for (const g of client.groups.list()) dispatch({ type: 'group', group: g });
      }),
      client.on('connection', (s) => {
        if (s !== 'connected') return;
        for (const [groupId, list] of Object.entries(stateRef.current.messages)) if (list.some((m) => m.direction === 'out' && m.state === 'queued')) settle(groupId);
      }),
    ];
    return () => {
      live = false;
      offs.forEach((off) => off());
    };
  }, []);

  // Reading: incoming messages of the open group become read while the tab is visible (as for 1:1).
  const openMessages = openGroupId ? state.messages[openGroupId] : undefined;
  useEffect(() => {
    if (!openGroupId || !visible || !openMessages) return;
    const ids = unreadGroupIds(state, openGroupId);
    if (ids.length === 0) return;
    // Deferred and caught: markRead may also queue receipts (and fail) without breaking the view.
    Promise.resolve()
      .then(() => client.groups.markRead(ids))
      .catch(() => undefined);
    dispatch({ type: 'read', groupId: openGroupId, ids });
  }, [openGroupId, openMessages, visible]);

  return {
    state,
    dispatch,
    hasAccountKey,
    sent: (m) => {
      dispatch({ type: 'message', message: m });
      settle(m.groupId);
    },
  };
}
