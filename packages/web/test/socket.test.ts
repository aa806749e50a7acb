import { describe, expect, it } from 'vitest';
import { browserSockets } from '../src/socket.dom.js';

class FakeWs {
  static OPEN = 1;
  static last: FakeWs;
  readyState = 1;
  binaryType = '';
  sent: Uint8Array[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: unknown) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: ((e: { code: number; reason: string }) => void) | null = null;
  closed: number | null = null;
  constructor(readonly url: string) {
    FakeWs.last = this;
  }
  send(d: Uint8Array) {
    this.sent.push(d);
  }
  close(code: number) {
    this.closed = code;
  }
}

const handlers = () => {
  const closes: number[] = [];
  return { closes, h: { onOpen: () => undefined, onMessage: () => undefined, onClose: (c: number) => closes.push(c) } };
};

describe('browser socket persistence barrier', () => {
  it('holds every frame until the store has persisted, and keeps their order', async () => {
    let release!: () => void;
    let barrier = new Promise<void>((r) => (release = r));
    const s = browserSockets({ barrier: () => barrier, WebSocketImpl: FakeWs as unknown as typeof WebSocket });
    const sock = s.factory('ws://x/pigeon', handlers().h);
    sock.send(Uint8Array.of(1));
    sock.send(Uint8Array.of(2));
    await Promise.resolve();
    expect(FakeWs.last.sent).toEqual([]);
    release();
    barrier = Promise.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(FakeWs.last.sent).toEqual([Uint8Array.of(1), Uint8Array.of(2)]);
  });

  it('sends nothing and closes once storage has failed', async () => {
    const s = browserSockets({ barrier: () => Promise.resolve(), broken: () => true, WebSocketImpl: FakeWs as unknown as typeof WebSocket });
    const sock = s.factory('ws://x/pigeon', handlers().h);
    sock.send(Uint8Array.of(1));
    await new Promise((r) => setTimeout(r, 0));
    expect(FakeWs.last.sent).toEqual([]);
    expect(FakeWs.last.closed).toBe(4000);
  });

  it('maps close codes browsers refuse to 1000', () => {
    const s = browserSockets({ barrier: () => Promise.resolve(), WebSocketImpl: FakeWs as unknown as typeof WebSocket });
    s.factory('ws://x/pigeon', handlers().h).close(1001);
    expect(FakeWs.last.closed).toBe(1000);
  });
});
