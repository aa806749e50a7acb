/**
 * Coalesces the frames written to one socket during one run of callbacks into one write.
 *
 * Every `ws.send` is otherwise its own writev syscall. A socket is corked the first time a frame
 * is written to it and uncorked once, after the current callback and the promise reactions it
 * triggered have run (process.nextTick), so e.g. the `ok` replies of one group commit, or the
 * deliveries a batch of sends produced, leave in one write. Nothing waits past the current tick,
 * so latency is unchanged. Nested cork/uncork (ws corks header + payload itself) is counted by
 * the stream, so frames still go out in the order they were sent.
 */
import type { Duplex } from 'node:stream';

let corked = new Set<Duplex>();
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  const sockets = corked;
  corked = new Set();
  for (const socket of sockets) socket.uncork();
}

/** Corks `socket` until the end of the current tick (once per tick). */
export function corkForThisTick(socket: Duplex | undefined): void {
  if (socket === undefined || socket.destroyed || corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(uncorkAll);
  }
}
