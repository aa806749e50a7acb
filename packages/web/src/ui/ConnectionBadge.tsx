import type { ConnectionState } from '@pigeon/client';
import { useI18n } from './i18n-context.js';

export function ConnectionBadge({ state, outbox }: { state: ConnectionState; outbox: number }) {
  const { t } = useI18n();
  const label = state === 'connected' ? t('connOnline') : state === 'connecting' ? t('connConnecting') : t('connOffline');
  return (
    <div class={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      <span class="dot" aria-hidden="true" />
      <span>{label}</span>
      {outbox > 0 && <span class="muted"> · {t('queued', { count: outbox })}</span>}
    </div>
  );
}
