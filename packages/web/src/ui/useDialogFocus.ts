/**
 * Keyboard focus for a modal dialog (WAI-ARIA dialog pattern): while it is open, Tab and
 * Shift+Tab cycle through its own controls instead of reaching the page behind it, and when it
 * closes, focus goes back to what had it before (the button that opened it), so a keyboard or
 * screen-reader user is not dropped at the top of the page.
 */
import type { RefObject } from 'preact';
import { useEffect } from 'preact/hooks';

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The next element Tab (or Shift+Tab) should focus inside `root`, or null to let the browser move on. */
export function wrapTarget(root: HTMLElement, active: Element | null, backwards: boolean): HTMLElement | null {
  const items = [...root.querySelectorAll<HTMLElement>(FOCUSABLE)];
  if (items.length === 0) return null;
  const first = items[0]!;
  const last = items[items.length - 1]!;
  const inside = active !== null && root.contains(active);
  if (!inside) return backwards ? last : first;
  if (backwards && active === first) return last;
  if (!backwards && active === last) return first;
  return null;
}

/** Traps Tab inside `dialog` while `open`; restores the previous focus when it closes. */
export function useDialogFocus(dialog: RefObject<HTMLElement | null>, open = true): void {
  useEffect(() => {
    if (!open) return undefined;
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    const onKey = (e: KeyboardEvent) => {
      const root = dialog.current;
      if (e.key !== 'Tab' || !root) return;
      const target = wrapTarget(root, document.activeElement, e.shiftKey);
      if (target) {
        e.preventDefault();
        target.focus();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      if (before?.isConnected) before.focus();
    };
  }, [open]);
}
