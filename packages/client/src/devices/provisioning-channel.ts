/**
 * The new device's side of the provisioning channel (docs/relay-api.md "Provisioning
 * mailboxes"): an unauthenticated socket that opens the mailbox and waits for its one
 * `provision_message`, pinging so the relay does not close it as idle. Its own small socket
 * rather than a RelayConnection: it must never reconnect (a new socket would need a new
 * mailbox) and it is the only user of the provisioning push.
 */
import { decodeRelayFrame, encodeClientFrame } from '@pigeon/api';
import { ClientError } from '../errors.js';
import type { RelaySocket, SocketFactory } from '../transport/socket.js';
import type { Logger } from '../types.js';

/** How often the waiting device pings (the relay closes idle unauthenticated sockets). */
export const PROVISIONING_PING_MS = 15_000;
const OPEN_REQUEST_ID = 1;

export interface ProvisioningChannel {
  /** Resolves when the relay opened the mailbox (the link code may be shown from then on). */
  readonly opened: Promise<void>;
  /** Resolves with the sealed provisioning envelope. */
  readonly envelope: Promise<Uint8Array>;
  close(): void;
}

export function openProvisioningChannel(options: {
  readonly url: string;
  readonly provisioningId: Uint8Array;
  readonly socketFactory: SocketFactory;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly pingIntervalMs?: number;
}): ProvisioningChannel {
  let resolveOpened!: () => void;
  let rejectOpened!: (err: Error) => void;
  let resolveEnvelope!: (b: Uint8Array) => void;
  let rejectEnvelope!: (err: Error) => void;
  const opened = new Promise<void>((res, rej) => ((resolveOpened = res), (rejectOpened = rej)));
  const envelope = new Promise<Uint8Array>((res, rej) => ((resolveEnvelope = res), (rejectEnvelope = rej)));
  // Callers may await only one of them: never report an unhandled rejection for the other.
  opened.catch(() => undefined);
  envelope.catch(() => undefined);
  let done = false;
  let socket: RelaySocket | null = null;
  let nextId = OPEN_REQUEST_ID + 1;
  let ping: ReturnType<typeof setInterval> | null = null;
  const timer = setTimeout(() => finish(new ClientError('TIMEOUT', 'no device sent the account in time; start linking again')), options.timeoutMs);

  const finish = (err: Error | null, bytes?: Uint8Array) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (ping) clearInterval(ping);
    if (err) {
      rejectOpened(err);
      rejectEnvelope(err);
    } else {
      resolveOpened();
      resolveEnvelope(bytes!);
    }
    try {
      socket?.close(1000, 'done');
    } catch {
      // already closed
    }
  };
  const send = (frame: Parameters<typeof encodeClientFrame>[0]) => socket?.send(encodeClientFrame(frame));

  socket = options.socketFactory(options.url, {
    onOpen: () => undefined,
    onMessage: (data) => {
      let frame: ReturnType<typeof decodeRelayFrame>;
      try {
        frame = decodeRelayFrame(data);
      } catch {
        options.logger('link.bad_frame');
        return;
      }
      switch (frame.type) {
        case 'challenge':
          send({ type: 'provision_open', id: OPEN_REQUEST_ID, provisioningId: options.provisioningId });
          break;
        case 'ok':
          if (frame.id === OPEN_REQUEST_ID) {
            resolveOpened();
            ping = setInterval(() => send({ type: 'ping', id: nextId++ }), options.pingIntervalMs ?? PROVISIONING_PING_MS);
          }
          break;
        case 'error':
          if (frame.id === OPEN_REQUEST_ID || frame.id === 0) finish(new ClientError('RELAY_REJECTED', `the relay refused the link request: ${frame.code}`));
          break;
        case 'provision_message':
          finish(null, frame.envelope);
          break;
        default:
          break;
      }
    },
    onClose: () => finish(new ClientError('RELAY_UNREACHABLE', 'the connection to the relay closed while waiting for the other device')),
  });
  return { opened, envelope, close: () => finish(new ClientError('CLOSED', 'linking cancelled')) };
}
