/**
 * Transfer progress for send-file and download: a bar on stderr when it is a terminal, one JSON
 * object per update on stdout with --json (`{"event":"progress",...}`), nothing otherwise.
 * Updates are throttled so a fast loopback transfer does not flood the terminal.
 */
import type { TransferProgress } from '@pigeon/client';
import { formatBytes } from '@pigeon/client';
import type { Output } from './io.js';

/** Least time between two updates. */
export const PROGRESS_INTERVAL_MS = 200;
const BAR_WIDTH = 30;

export interface ProgressReporter {
  readonly onProgress: (p: TransferProgress) => void;
  /** Prints the final state and ends the bar's line. */
  finish(): void;
}

export function progressReporter(out: Output, label: string, now: () => number = Date.now): ProgressReporter {
  const tty = !out.json && out.io.isTty && Boolean(process.stderr.isTTY);
  const started = now();
  let last = -Infinity;
  let latest: TransferProgress | null = null;
  let drawn = false;

  const render = (p: TransferProgress) => {
    const fraction = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
    const seconds = Math.max(0.001, (now() - started) / 1000);
    if (out.json) {
      out.data({ event: 'progress', phase: p.phase, done: p.done, total: p.total, ...(p.retries ? { retries: p.retries } : {}) });
    } else if (tty) {
      const filled = Math.round(fraction * BAR_WIDTH);
      const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled);
      const retry = p.retries ? ` (reconnecting, try ${p.retries})` : '';
      out.io.stderr(`\r${label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(p.done)}/${formatBytes(p.total)} ${formatBytes(p.done / seconds)}/s${retry}\x1b[K`);
      drawn = true;
    }
  };

  return {
    onProgress(p) {
      latest = p;
      const t = now();
      if (t - last < PROGRESS_INTERVAL_MS && !p.retries && p.done !== p.total) return;
      last = t;
      render(p);
    },
    finish() {
      if (latest && tty) render(latest);
      if (drawn) out.io.stderr('\n');
    },
  };
}
