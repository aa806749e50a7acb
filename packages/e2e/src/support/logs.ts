/** Reading the drivers' JSON event logs. */
import assert from 'node:assert/strict';
import { LiveProcess, RECEIVER_DRIVER } from './processes.js';

export interface DriverEvent {
  readonly event: string;
  readonly id?: string;
  readonly text?: string;
  readonly state?: string;
  readonly t: number;
}

export const isMessage = (e: DriverEvent): boolean => e.event === 'message';
export const isSentStatus = (e: DriverEvent): boolean => e.event === 'status' && e.state === 'sent';
export const isQueued = (e: DriverEvent): boolean => e.event === 'queued';

export function ids(events: readonly DriverEvent[], match: (e: DriverEvent) => boolean): string[] {
  return events.filter(match).map((e) => e.id!);
}

/** Ids that occur more than once. */
export function duplicates(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of list) (seen.has(id) ? dup : seen).add(id);
  return [...dup];
}

export function startReceiver(label: string, home: string): LiveProcess {
  return new LiveProcess(label, RECEIVER_DRIVER, ['--home', home]);
}

/**
 * Opens the receiving profile once more after the run: whatever the relay still holds for it
 * is delivered again, and the application must see none of it as a new message.
 */
export async function assertNothingRedelivered(home: string): Promise<void> {
  const again = startReceiver('receiver (re-run)', home);
  try {
    await again.waitForEvent('synced', (e) => e.event === 'synced');
    assert.deepEqual(ids(again.events, isMessage), [], 'a message was delivered to the application a second time');
  } finally {
    await again.kill('SIGTERM');
  }
}
