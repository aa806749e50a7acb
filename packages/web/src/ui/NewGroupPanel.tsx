import { useState } from 'preact/hooks';
import type { Contact, Group, PigeonClient } from '@pigeon/client';
import { createPermission, groupErrorKey } from '../logic/groups.js';
import { errorCode } from './errors.js';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';

/** "New group": a name and the contacts to add; this device becomes the group's admin. */
export function NewGroupPanel({ client, contacts, hasAccountKey, onCreated, onBack }: { client: PigeonClient; contacts: readonly Contact[]; hasAccountKey: boolean | null; onCreated: (g: Group) => void; onBack: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<readonly string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const allowed = createPermission(hasAccountKey);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!allowed.ok || name.trim() === '') return;
    setBusy(true);
    setError(null);
    try {
      onCreated(await client.groups.create(name, picked));
    } catch (err) {
      const code = errorCode(err);
      setError(t(groupErrorKey(code, 'groupCreateFailed'), { code }));
      setBusy(false);
    }
  };
  return (
    <section class="panel">
      <PaneHeader title={t('newGroup')} onBack={onBack} />
      <form class="panel-body" onSubmit={submit} data-testid="new-group">
        {!allowed.ok && (
          <p class="muted" data-testid="group-permission">
            {t(allowed.reason)}
          </p>
        )}
        <label for="group-name">{t('groupName')}</label>
        <input id="group-name" value={name} maxLength={64} disabled={!allowed.ok} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} />
        <fieldset class="pick">
          <legend>{t('groupPickMembers')}</legend>
          {contacts.length === 0 && <p class="muted small">{t('groupNoContacts')}</p>}
          {contacts.map((c) => (
            <label class="check" key={c.id}>
              <input
                type="checkbox"
                data-testid="pick-contact"
                disabled={!allowed.ok}
                checked={picked.includes(c.id)}
                onChange={(e) => setPicked((e.currentTarget as HTMLInputElement).checked ? [...picked, c.id] : picked.filter((x) => x !== c.id))}
              />
              {c.name}
            </label>
          ))}
        </fieldset>
        <button type="submit" class="primary" disabled={busy || !allowed.ok || name.trim() === ''}>
          {busy ? t('groupCreating') : t('groupCreate')}
        </button>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
