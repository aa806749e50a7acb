/**
 * Keeps a scrolling message log at its bottom while content grows under it (an inline image
 * finishing its decode, an upload bubble appearing), but only if the reader was at the bottom:
 * someone reading older messages is not pulled down.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { RefObject } from 'preact';

/** Within this many pixels of the end counts as "at the bottom". */
const SLACK_PX = 80;

export function useStickyLog(logRef: RefObject<HTMLElement | null>, grew: unknown): { onScroll: () => void; onLoadCapture: () => void } {
  const atBottom = useRef(true);
  const stick = () => {
    const el = logRef.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  };
  useEffect(stick, [grew]);
  return {
    onScroll: () => {
      const el = logRef.current;
      if (el) atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < SLACK_PX;
    },
    // `load` does not bubble, but it can be caught on the way down: any <img> in the log.
    onLoadCapture: stick,
  };
}
