/**
 * The browser side of the SDK's socket seam (@pigeon/client transport/socket.ts): a binary
 * WebSocket behind a persistence barrier.
 *
 * Why the barrier: the SDK commits a received message to the store and then acks it; with the
 * IndexedDB store the commit lands in the in-memory mirror first and on disk a moment later.
 * Every outgoing frame therefore waits for `barrier()` (the store's whenPersisted) so frames
 * leave in order and only after everything committed before them is durable. If persistence
 * has failed, frames are dropped and the socket closed: the relay keeps the mail and redelivers.
 */
import type { RelaySocket, SocketFactory, SocketHandlers } from '@pigeon/client';

export interface BarrierSocketOptions {
  /** Resolves when state committed so far is durable. */
  readonly barrier: () => Promise<void>;
  /** True once the store can no longer persist. */
  readonly broken?: () => boolean;
  readonly WebSocketImpl?: typeof WebSocket;
}

export interface BrowserSockets {
  readonly factory: SocketFactory;
  /**
   * Closes every open socket now. Called when the browser reports going offline: a dead
   * connection would otherwise look alive until the keepalive times out, and messages written
   * meanwhile would be handed to it instead of staying visibly queued. The SDK reconnects.
   */
  dropAll(): void;
}

export function browserSockets(options: BarrierSocketOptions): BrowserSockets {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const open = new Set<WebSocket>();
  const factory = (url: string, handlers: SocketHandlers): RelaySocket => {
    let finished = false;
    const finish = (code: number, reason: string) => {
      if (finished) return;
      finished = true;
      handlers.onClose(code, reason);
    };
    let ws: WebSocket;
    try {
      ws = new Impl(url);
    } catch {
      // A malformed URL throws synchronously; the seam promises onClose instead.
      queueMicrotask(() => finish(1006, 'bad url'));
      return { send: () => undefined, close: () => undefined };
    }
    ws.binaryType = 'arraybuffer';
    open.add(ws);
    ws.onopen = () => handlers.onOpen();
    ws.onmessage = (ev: MessageEvent) => {
      if (ev.data instanceof ArrayBuffer) handlers.onMessage(new Uint8Array(ev.data));
      // text frames are not part of the protocol: ignored
    };
    ws.onerror = () => undefined; // always followed by close
    ws.onclose = (ev: CloseEvent) => {
      open.delete(ws);
      finish(ev.code, ev.reason);
    };

    let chain: Promise<void> = Promise.resolve();
    return {
      send(data: Uint8Array) {
        const copy = data.slice();
        chain = chain.then(async () => {
          await options.barrier();
          if (options.broken?.()) {
            ws.close(4000, 'storage failed');
            return;
          }
          if (ws.readyState === Impl.OPEN) ws.send(copy);
        });
      },
      close(code?: number, reason?: string) {
        // Browsers accept only 1000 and 3000..4999 from script.
        const c = code !== undefined && (code === 1000 || (code >= 3000 && code <= 4999)) ? code : 1000;
        try {
          ws.close(c, reason);
        } catch {
          ws.close();
        }
      },
    };
  };
  return {
    factory,
    dropAll() {
      for (const ws of open) {
        open.delete(ws);
        ws.close(4001, 'offline');
        // The close handshake cannot finish offline: tell the SDK now instead of waiting.
        ws.onclose?.(new CloseEvent('close', { code: 1006, reason: 'offline' }));
      }
    },
  };
}
