import { useEffect, useRef } from 'preact/hooks';
import { useI18n } from './i18n-context.js';

/** The heading of a side pane; it takes focus when the pane opens, so keyboard and screen reader users land on it. */
export function PaneHeader({ title, onBack }: { title: string; onBack: () => void }) {
  const { t } = useI18n();
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), [title]);
  return (
    <header class="pane-header">
      <button type="button" class="icon back" onClick={onBack} aria-label={t('back')}>
        ←
      </button>
      <h2 tabIndex={-1} ref={ref}>
        {title}
      </h2>
    </header>
  );
}
