/**
 * The signed-in app: SDK events feed the reducer (logic/app-state.ts); the layout is a
 * conversation list plus one pane (side by side on a desktop, one at a time on a phone).
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'preact/hooks';
import type { Contact, PigeonClient, StoredMessage } from '@pigeon/client';
import { activeContactId, initialState, reducer } from '../logic/app-state.js';
import type { View } from '../logic/app-state.js';
import { decodeWarnings, detectKeyChange, encodeWarnings } from '../logic/key-change.js';
import type { KeyChangeWarning } from '../logic/key-change.js';
import { extractInviteLink, INVITE_FRAGMENT } from '../logic/invite-input.js';
import { extractGroupLink, GROUP_FRAGMENT } from '../logic/groups.js';
import { GroupPane, isGroupView } from './GroupPanes.js';
import { useGroups } from './useGroups.js';
import { notifyIfHidden } from '../notify.js';
import type { IdbClientStore } from '../store/idb-store.js';
import { AcceptInvite } from './AcceptInvite.js';
import { ChatView } from './ChatView.js';
import { ConnectionBadge } from './ConnectionBadge.js';
import { ConversationList } from './ConversationList.js';
import { useI18n } from './i18n-context.js';
import { InvitePanel } from './InvitePanel.js';
import type { PrefsProps } from './Preferences.js';
import { SafetyPanel } from './SafetyPanel.js';
import { SettingsPanel } from './SettingsPanel.js';
import { RequestsPanel } from './RequestsPanel.js';
import { RevokedNotice } from './RevokedNotice.js';
import { isTyping } from '../logic/life.js';
import { TYPING_TTL_MS } from '@pigeon/client';

export const WARNINGS_KEY = 'web.key_warnings';
/** Messages loaded per conversation at start (the newest ones). */
export const HISTORY_LIMIT = 1000;

/** Reads an invite from the URL fragment once and removes it from the address bar. */
function takeInviteFromLocation(): string | undefined {
  if (!location.hash.includes(INVITE_FRAGMENT) && !location.hash.includes(GROUP_FRAGMENT)) return undefined;
  const link = extractInviteLink(location.href) ?? extractGroupLink(location.href);
  history.replaceState(null, '', location.pathname + location.search);
  return link ?? undefined;
}

export function Main({ client, store, relayUrl, prefs }: { client: PigeonClient; store: IdbClientStore; relayUrl: string; prefs: PrefsProps }) {
  const { t } = useI18n();
  const [state, dispatch] = useReducer(reducer, initialState);
  const [announcement, setAnnouncement] = useState('');
  const [visible, setVisible] = useState(!document.hidden);
  const stateRef = useRef(state);
  stateRef.current = state;
  const [, setTick] = useState(0);
  // This browser was removed from its account (linked devices): RevokedNotice replaces the app.
  const [revoked, setRevoked] = useState(() => client.devices.isRevoked());
  const openGroupId = state.view.name === 'group' ? state.view.groupId : null;
  const groups = useGroups(client, openGroupId, visible, (m) => {
    const group = groups.state.groups.find((g) => g.id === m.groupId)?.name ?? '';
    setAnnouncement(t('newGroupMessage', { group }));
    notifyIfHidden(t('newGroupMessage', { group }), t('newMessageBody'), m.groupId, () => navigate({ name: 'group', groupId: m.groupId }));
  });
  const reloadChat = (contactId: string) => dispatch({ type: 'reload', contactId, messages: client.messages(contactId, { limit: HISTORY_LIMIT }) });

  const navigate = useCallback((view: View) => dispatch({ type: 'navigate', view }), []);
  const saveWarnings = (warnings: KeyChangeWarning[]) => {
    store.setState(WARNINGS_KEY, encodeWarnings(warnings));
    dispatch({ type: 'warnings', warnings });
  };
  const contactAdded = (c: Contact) => {
    const known = stateRef.current.contacts;
    if (!known.some((k) => k.id === c.id)) {
      const w = detectKeyChange(c, known);
      if (w) saveWarnings([...stateRef.current.warnings, w]);
    }
    dispatch({ type: 'contact', contact: c });
  };

  useEffect(() => {
    const contacts = client.contacts();
    const messages: Record<string, StoredMessage[]> = {};
    for (const c of contacts) messages[c.id] = client.messages(c.id, { limit: HISTORY_LIMIT });
    dispatch({ type: 'loaded', contacts, messages, warnings: decodeWarnings(store.getState(WARNINGS_KEY)) });
    dispatch({ type: 'outbox', count: client.outboxSize() });
    dispatch({ type: 'requests', requests: client.requests() });
    // The client may already be connected (a browser just linked connects before the app opens).
    dispatch({ type: 'connection', state: client.connectionState() });
    const invite = takeInviteFromLocation();
    if (invite) navigate({ name: 'accept', link: invite });

    const refreshOutbox = () => dispatch({ type: 'outbox', count: client.outboxSize() });
    const offs = [
      client.on('contact', contactAdded),
      client.on('message', (m) => {
        dispatch({ type: 'message', message: m });
        refreshOutbox();
        // 'out' here = sent from another of our devices (sent-message sync): shown, never announced.
        if (m.direction === 'out') return;
        const name = stateRef.current.contacts.find((c) => c.id === m.contactId)?.name ?? '';
        setAnnouncement(t('newMessageFrom', { name }));
        notifyIfHidden(t('newMessageFrom', { name }), t('newMessageBody'), m.contactId, () => navigate({ name: 'chat', contactId: m.contactId }));
      }),
      client.on('status', (m) => {
        dispatch({ type: 'status', message: m });
        refreshOutbox();
      }),
      client.on('connection', (s) => {
        dispatch({ type: 'connection', state: s });
        refreshOutbox();
      }),
      // Message life: edits, reactions, deletions, expiries and timer changes reload the chat.
      client.on('update', (u) => {
        if (stateRef.current.contacts.some((c) => c.id === u.contactId)) reloadChat(u.contactId);
        refreshOutbox();
      }),
      client.on('typing', (ev) => {
        dispatch({ type: 'typing', contactId: ev.contactId, at: ev.typing ? ev.at : null });
        // Stale after TYPING_TTL_MS without a new start (the sender may have closed the app).
        if (ev.typing) setTimeout(() => setTick((n) => n + 1), TYPING_TTL_MS + 50);
      }),
      client.on('request', () => dispatch({ type: 'requests', requests: client.requests() })),
      client.devices.on('revoked', () => setRevoked(true)),
    ];
    store.onPersistError = () => dispatch({ type: 'storage_failed' });
    client.connect().catch(() => undefined); // keeps retrying in the background; the badge shows the state
    const onHash = () => {
      const link = takeInviteFromLocation();
      if (link) navigate({ name: 'accept', link });
    };
    const onVisibility = () => setVisible(!document.hidden);
    window.addEventListener('hashchange', onHash);
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      offs.forEach((off) => off());
      window.removeEventListener('hashchange', onHash);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, []);

  // Reading: incoming messages of the open conversation become read while the tab is visible.
  const openId = state.view.name === 'chat' ? state.view.contactId : null;
  const openMessages = openId ? state.messages[openId] : undefined;
  useEffect(() => {
    if (!openId || !visible || !openMessages) return;
    const ids = openMessages.filter((m) => m.direction === 'in' && !m.read).map((m) => m.id);
    if (ids.length === 0) return;
    void client.markRead(ids); // queues read receipts (if on) in the background
    dispatch({ type: 'read', contactId: openId, ids });
  }, [openId, openMessages, visible]);

  if (revoked) return <RevokedNotice client={client} />;
  const profile = client.profile();
  const view = state.view;
  const contactOf = (id: string) => state.contacts.find((c) => c.id === id);
  const back = () => navigate({ name: 'list' });
  const appUrl = location.href;
  const dismissWarning = (contactId: string) => saveWarnings(state.warnings.filter((w) => w.contactId !== contactId));

  let pane;
  if (view.name === 'chat' && contactOf(view.contactId)) {
    const c = contactOf(view.contactId)!;
    pane = (
      <ChatView
        client={client}
        contact={c}
        messages={state.messages[c.id] ?? []}
        warning={state.warnings.find((w) => w.contactId === c.id) ?? null}
        onSent={(m) => {
          dispatch({ type: 'message', message: m });
          dispatch({ type: 'outbox', count: client.outboxSize() });
        }}
        onSafety={() => navigate({ name: 'safety', contactId: c.id })}
        onDismissWarning={() => dismissWarning(c.id)}
        onAcknowledgeKeyChange={() => dispatch({ type: 'contact', contact: client.acknowledgeKeyChange(c.id) })}
        onBack={back}
        typing={isTyping(state.typing, c.id, Date.now())}
        onChanged={() => reloadChat(c.id)}
      />
    );
  } else if (view.name === 'safety' && contactOf(view.contactId)) {
    const c = contactOf(view.contactId)!;
    pane = (
      <SafetyPanel
        client={client}
        contact={c}
        onChanged={(next) => {
          dispatch({ type: 'contact', contact: next });
          if (next.verified) dismissWarning(next.id);
        }}
        onBack={() => navigate({ name: 'chat', contactId: c.id })}
      />
    );
  } else if (view.name === 'invite') pane = <InvitePanel client={client} appUrl={appUrl} onBack={back} />;
  else if (view.name === 'accept')
    pane = (
      <AcceptInvite
        key={view.link ?? ''}
        client={client}
        initial={view.link}
        onAccepted={(c) => {
          contactAdded(c);
          navigate({ name: 'chat', contactId: c.id });
        }}
        onJoinGroup={async (link) => {
          const r = await client.groups.joinByLink(link);
          navigate({ name: 'group-joining', groupId: r.groupId, groupName: r.name });
        }}
        onBack={back}
      />
    );
  else if (isGroupView(view)) pane = <GroupPane view={view} client={client} groups={groups} contacts={state.contacts} appUrl={appUrl} navigate={navigate} />;
  else if (view.name === 'settings') pane = <SettingsPanel client={client} profile={profile} relayUrl={relayUrl} prefs={prefs} onBack={back} />;
  else pane = <p class="placeholder muted">{t('selectConversation')}</p>;

  const paneOpen = view.name !== 'list' || activeContactId(view) !== null;
  return (
    <div class={`layout ${paneOpen ? 'pane-open' : 'list-open'}`}>
      <a class="skip" href="#pane">
        {t('skipToContent')}
      </a>
      <aside class="sidebar" aria-label={t('conversations')}>
        <header class="sidebar-header">
          <h1 class="brand">
            <span class="logo" aria-hidden="true" />
            {t('appName')}
          </h1>
          <span class="me muted small" title={profile.pigeonId}>
            {profile.displayName}
          </span>
        </header>
        <ConnectionBadge state={state.connection} outbox={state.outbox} />
        <nav class="actions">
          <button type="button" class="primary" onClick={() => navigate({ name: 'invite' })}>
            {t('invite')}
          </button>
          <button type="button" class="secondary" onClick={() => navigate({ name: 'accept' })}>
            {t('addContact')}
          </button>
          <button type="button" class="secondary" onClick={() => navigate({ name: 'new-group' })} data-testid="new-group-button">
            {t('newGroup')}
          </button>
          <button type="button" class="secondary" onClick={() => navigate({ name: 'settings' })}>
            {t('settings')}
          </button>
        </nav>
        <h2 class="sr-only">{t('conversations')}</h2>
        <RequestsPanel
          client={client}
          requests={state.requests}
          onChanged={(accepted) => {
            dispatch({ type: 'requests', requests: client.requests() });
            if (accepted) {
              reloadChat(accepted);
              navigate({ name: 'chat', contactId: accepted });
            }
          }}
        />
        <ConversationList state={state} onOpen={(id) => navigate({ name: 'chat', contactId: id })} groups={groups.state} onOpenGroup={(id) => navigate({ name: 'group', groupId: id })} />
      </aside>
      <main class="pane" id="pane">
        {state.storageFailed && (
          <p class="warning" role="alert">
            {t('storageFailed')}
          </p>
        )}
        {pane}
      </main>
      <div class="sr-only" role="status" aria-live="polite">
        {announcement}
      </div>
    </div>
  );
}
