import { useState } from 'preact/hooks';
import type { Contact, Group, GroupMemberInfo, PigeonClient } from '@pigeon/client';
import { addableContacts, groupErrorKey, groupPermission, webGroupLink } from '../logic/groups.js';
import { CopyButton } from './CopyButton.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';
import { Qr } from './Qr.js';

export interface GroupInfoProps {
  readonly client: PigeonClient;
  readonly group: Group;
  readonly contacts: readonly Contact[];
  /** This device holds the account key (null: not known yet). */
  readonly hasAccountKey: boolean | null;
  readonly appUrl: string;
  readonly onChanged: (g: Group) => void;
  readonly onBack: () => void;
}

/**
 * Members (admin badge), add/remove, make/unmake admin, rename, invite link (copy + QR), leave.
 * Changes are signed by an admin's account key: the controls are hidden with the reason shown
 * when this device cannot make them; the SDK still checks (its error code is shown).
 */
export function GroupInfoPanel({ client, group, contacts, hasAccountKey, appUrl, onChanged, onBack }: GroupInfoProps) {
  const { t } = useI18n();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState(group.name);
  const [picked, setPicked] = useState<readonly string[]>([]);
  const [link, setLink] = useState<string | null>(null);
  const manage = groupPermission(group, 'admin', hasAccountKey);
  const leave = groupPermission(group, 'leave', hasAccountKey);
  const addable = addableContacts(group, contacts);

  const run = async (action: () => Promise<Group | void>) => {
    setBusy(true);
    setError(null);
    try {
      const g = await action();
      if (g) onChanged(g);
    } catch (err) {
      const code = errorCode(err);
      setError(t(groupErrorKey(code, 'actionFailed'), { code }));
    } finally {
      setBusy(false);
    }
  };
  const memberRow = (m: GroupMemberInfo) => (
    <li key={m.id} class="member" data-testid="member" data-name={m.self ? '' : m.name}>
      <span class="member-name" dir="auto">
        {m.self ? t('you') : m.name}
      </span>
      {m.admin && (
        <span class="verify-badge ok" data-testid="admin-badge">
          {t('groupAdmin')}
        </span>
      )}
      {manage.ok && !m.self && (
        <span class="member-actions">
          <button type="button" class="link" disabled={busy} data-testid="toggle-admin" onClick={() => run(() => client.groups.setAdmin(group.id, m.id, !m.admin))}>
            {m.admin ? t('groupUnmakeAdmin') : t('groupMakeAdmin')}
          </button>
          <button
            type="button"
            class="link"
            disabled={busy}
            data-testid="remove-member"
            onClick={() => confirm(t('groupConfirmRemove', { name: m.name })) && run(() => client.groups.remove(group.id, [m.id]))}
          >
            {t('groupRemove')}
          </button>
        </span>
      )}
    </li>
  );

  return (
    <section class="panel" data-testid="group-info-panel">
      <PaneHeader title={t('groupInfoTitle', { name: group.name })} onBack={onBack} />
      <div class="panel-body">
        {!manage.ok && (
          <p class="muted" data-testid="group-permission">
            {t(manage.reason)}
          </p>
        )}
        {manage.ok && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void run(() => client.groups.rename(group.id, name));
            }}
          >
            <label for="group-rename">{t('groupName')}</label>
            <div class="row">
              <input id="group-rename" value={name} maxLength={64} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} style={{ flex: 1, width: 'auto' }} />
              <button type="submit" class="secondary" disabled={busy || name.trim() === '' || name.trim() === group.name}>
                {t('groupRename')}
              </button>
            </div>
          </form>
        )}

        <h3>{t('groupMembersCount', { count: group.members.length })}</h3>
        <ul class="members">{group.members.map(memberRow)}</ul>

        {manage.ok && (
          <fieldset class="pick">
            <legend>{t('groupAddMembers')}</legend>
            {addable.length === 0 ? (
              <p class="muted small">{t('groupNoOneToAdd')}</p>
            ) : (
              <>
                {addable.map((c) => (
                  <label class="check" key={c.id}>
                    <input
                      type="checkbox"
                      data-testid="add-pick"
                      checked={picked.includes(c.id)}
                      onChange={(e) => setPicked((e.currentTarget as HTMLInputElement).checked ? [...picked, c.id] : picked.filter((x) => x !== c.id))}
                    />
                    {c.name}
                  </label>
                ))}
                <button
                  type="button"
                  class="secondary"
                  disabled={busy || picked.length === 0}
                  data-testid="add-members"
                  onClick={() =>
                    run(async () => {
                      const g = await client.groups.add(group.id, picked);
                      setPicked([]);
                      return g;
                    })
                  }
                >
                  {t('groupAdd')}
                </button>
              </>
            )}
          </fieldset>
        )}

        {manage.ok && (
          <div class="group-invite">
            <h3>{t('groupInviteTitle')}</h3>
            <p class="muted small">{t('groupInviteText')}</p>
            {link && (
              <>
                <Qr data={link} label={t('groupInviteQr')} />
                <label for="group-invite-link">{t('inviteLink')}</label>
                <textarea id="group-invite-link" class="mono" readOnly rows={3} value={link} data-testid="group-invite-link" onFocus={(e) => (e.currentTarget as HTMLTextAreaElement).select()} />
              </>
            )}
            <div class="row">
              {link && <CopyButton text={link} class="primary" />}
              <button
                type="button"
                class="secondary"
                disabled={busy}
                data-testid="create-group-invite"
                onClick={() =>
                  run(async () => {
                    const r = await client.groups.createInviteLink(group.id);
                    setLink(webGroupLink(r.link, appUrl));
                  })
                }
              >
                {link ? t('newInvite') : t('groupCreateInvite')}
              </button>
            </div>
          </div>
        )}

        <h3>{t('groupLeaveTitle')}</h3>
        {!leave.ok && <p class="muted small">{t(leave.reason)}</p>}
        <button type="button" class="secondary danger" disabled={busy || !leave.ok} data-testid="leave-group" onClick={() => confirm(t('groupConfirmLeave', { name: group.name })) && run(() => client.groups.leave(group.id))}>
          {t('groupLeave')}
        </button>
        {error && (
          <p class="error" role="alert" data-testid="group-error">
            {error}
          </p>
        )}
      </div>
    </section>
  );
}
