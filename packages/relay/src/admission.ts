/**
 * Admission control (RelayLimits.maxPendingSends): past saturation a relay that
 * keeps reading every socket spends its time decoding sends it cannot commit in time, and the
 * deliveries (and the acks that free mailboxes) starve. So the sends issued and not yet answered
 * are counted relay-wide; while more than `maxPendingSends` are open, a connection that issues a
 * send stops reading its socket (TCP pushes back on the client), and every paused socket resumes
 * once the count is back under half the bound. Nothing is refused: frames already read are
 * handled, the client only sees its sends answered later.
 */
import type { Duplex } from 'node:stream';

export class SendAdmission {
  private pending = 0;
  private readonly paused = new Set<Duplex>();

  constructor(private readonly maxPending: number) {}

  get pendingSends(): number {
    return this.pending;
  }

  get pausedSockets(): number {
    return this.paused.size;
  }

  /** A send was issued on `socket`: count it and, over the bound, stop reading that socket. */
  begin(socket: Duplex | undefined): void {
    this.pending++;
    if (this.pending > this.maxPending && socket !== undefined && !socket.destroyed && !this.paused.has(socket)) {
      this.paused.add(socket);
      socket.pause();
    }
  }

  /** A send was answered (ok or error). */
  end(): void {
    this.pending--;
    if (this.paused.size > 0 && this.pending <= this.maxPending >> 1) this.resumeAll();
  }

  /** A socket closed: forget it. */
  forget(socket: Duplex | undefined): void {
    if (socket !== undefined) this.paused.delete(socket);
  }

  private resumeAll(): void {
    const sockets = [...this.paused];
    this.paused.clear();
    for (const s of sockets) if (!s.destroyed) s.resume();
  }
}
