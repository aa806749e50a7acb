import { useEffect } from 'preact/hooks';
import { useI18n } from './i18n-context.js';
import { PaneHeader } from './PaneHeader.js';

/**
 * After a group link was used: the join request is with the admin's devices, and the group
 * arrives with their welcome (maybe much later, when an admin device is online). Opens the
 * group as soon as it is here.
 */
export function GroupJoinPending({ name, joined, onOpen, onBack }: { name: string; joined: boolean; onOpen: () => void; onBack: () => void }) {
  const { t } = useI18n();
  useEffect(() => {
    if (joined) onOpen();
  }, [joined]);
  return (
    <section class="panel">
      <PaneHeader title={t('groupJoinTitle', { name })} onBack={onBack} />
      <div class="panel-body">
        <p data-testid="group-join-pending">{t('groupJoinPending', { name })}</p>
      </div>
    </section>
  );
}
