/**
 * The one thing the transport needs from a platform: a binary WebSocket.
 * Node supplies it with the `ws` package (ws-socket.node.ts); browsers wrap the global WebSocket.
 */
export interface SocketHandlers {
  onOpen(): void;
  onMessage(data: Uint8Array): void;
  /** Called exactly once, also after a failed handshake. */
  onClose(code: number, reason: string): void;
}

export interface RelaySocket {
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, handlers: SocketHandlers) => RelaySocket;
