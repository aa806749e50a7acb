/**
 * The frame channel every route produces. Structurally the same as @pigeon/client's
 * SocketFactory / RelaySocket (packages/client/src/transport/socket.ts), declared here so the
 * transport does not depend on the SDK: one binary message = one relay frame.
 */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: Uint8Array): void;
  /** Called exactly once, also after a failed open. */
  onClose(code: number, reason: string): void;
}

export interface RelaySocket {
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => RelaySocket;

/** Close code a channel reports when it never opened (ws uses 1006 for "abnormal"). */
export const CLOSE_ABNORMAL = 1006;

/** Wraps handlers so onClose fires once and nothing fires after it. */
export function onceHandlers(h: SocketHandlers): SocketHandlers & { readonly closed: boolean } {
  let closed = false;
  return {
    get closed() {
      return closed;
    },
    onOpen: () => {
      if (!closed) h.onOpen();
    },
    onMessage: (d) => {
      if (!closed) h.onMessage(d);
    },
    onClose: (code, reason) => {
      if (closed) return;
      closed = true;
      h.onClose(code, reason);
    },
  };
}
