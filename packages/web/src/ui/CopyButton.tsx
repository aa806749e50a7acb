import { useState } from 'preact/hooks';
import { useI18n } from './i18n-context.js';

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false; // no clipboard permission (e.g. insecure context): the text stays selectable
  }
}

export function CopyButton({ text, label, class: cls }: { text: string; label?: string; class?: string }) {
  const { t } = useI18n();
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      class={cls ?? 'secondary'}
      aria-label={label ?? t('copy')}
      onClick={async () => {
        if (await copyText(text)) {
          setDone(true);
          setTimeout(() => setDone(false), 1500);
        }
      }}
    >
      {done ? t('copied') : t('copy')}
    </button>
  );
}
