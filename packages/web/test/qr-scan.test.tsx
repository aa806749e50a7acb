// @vitest-environment happy-dom
// QR scanning: the pure parts (problems, frame size, decoding) and the "Scan" buttons' flows with
// a fake scanner (the camera dialog is replaced by one that "finds" SCANNED.result at once).
import { useEffect } from 'preact/hooks';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Contact, DeviceAdded, PigeonClient } from '@pigeon/client';
import { mount } from './dom-mount.js';
import { qrPixels } from './qr-image.js';
import { decodeWithJsqr, frameDecoder, platformDetector } from '../src/logic/qr-decode.js';
import { cameraProblem, canScan, frameSize, MAX_FRAME_SIDE, preflightProblem } from '../src/logic/qr-scan.js';
import type { ScanResult } from '../src/logic/qr-scan.js';
import { AcceptInvite } from '../src/ui/AcceptInvite.js';
import { AddDevice } from '../src/ui/AddDevice.js';
import { SafetyPanel } from '../src/ui/SafetyPanel.js';

const SCANNED = vi.hoisted(() => ({ result: null as ScanResult | null, needBytes: [] as boolean[] }));
vi.mock('../src/ui/QrScanner.js', () => ({
  default: ({ onResult, needBytes }: { onResult: (r: ScanResult) => void; needBytes?: boolean }) => {
    useEffect(() => {
      SCANNED.needBytes.push(Boolean(needBytes));
      if (SCANNED.result) onResult(SCANNED.result);
    }, []);
    return <div data-testid="qr-scanner" />;
  },
}));

const text = (t: string): ScanResult => ({ text: t, bytes: new TextEncoder().encode(t) });
const settle = () => act(async () => await new Promise((r) => setTimeout(r, 0)));
const noop = () => undefined;
const contact: Contact = { id: 'c1', name: 'Bob', pigeonId: 'p-c1', relayUrl: 'ws://r/pigeon', verified: false, addedAt: 1, keyChanged: false };
const INVITE = 'pigeon://invite/AbC-12_x';
const LINK_CODE = 'pigeon://link/AQAbd3M6Ly8xMjcuMC4wLjE6Nzg3OC9waWdlb24_abc-DEF';

function withCamera(present: boolean) {
  Object.defineProperty(navigator, 'mediaDevices', { configurable: true, value: present ? { getUserMedia: vi.fn() } : undefined });
}
async function clickScan(el: HTMLElement) {
  const button = el.querySelector<HTMLButtonElement>('[data-testid=scan-qr]');
  expect(button).not.toBeNull();
  await act(() => button!.click());
  await settle();
  await settle();
}

afterEach(() => {
  SCANNED.result = null;
  SCANNED.needBytes = [];
  withCamera(false);
});

describe('scan logic', () => {
  it('offers scanning only with a camera API, and names an insecure page', () => {
    expect(canScan({ navigator: {} })).toBe(false);
    expect(canScan({ navigator: { mediaDevices: { getUserMedia: () => undefined } } })).toBe(true);
    expect(preflightProblem({ isSecureContext: false, navigator: {} })).toBe('INSECURE_CONTEXT');
    expect(preflightProblem({ isSecureContext: true, navigator: {} })).toBe('NO_CAMERA');
    expect(preflightProblem({ isSecureContext: true, navigator: { mediaDevices: { getUserMedia: () => undefined } } })).toBeNull();
  });

  it('maps getUserMedia failures to typed problems', () => {
    const dom = (name: string) => Object.assign(new Error(name), { name });
    expect(cameraProblem(dom('NotAllowedError'))).toBe('PERMISSION_DENIED');
    expect(cameraProblem(dom('NotFoundError'))).toBe('NO_CAMERA');
    expect(cameraProblem(dom('OverconstrainedError'))).toBe('NO_CAMERA');
    expect(cameraProblem(dom('NotReadableError'))).toBe('CAMERA_BUSY');
    expect(cameraProblem(dom('SecurityError'))).toBe('INSECURE_CONTEXT');
    expect(cameraProblem(new Error('x'))).toBe('CAMERA_FAILED');
    expect(cameraProblem(undefined)).toBe('CAMERA_FAILED');
  });

  it('scales large frames down and keeps small ones', () => {
    expect(frameSize(640, 480)).toEqual({ width: 640, height: 480 });
    expect(frameSize(1920, 1080)).toEqual({ width: MAX_FRAME_SIDE, height: 450 });
    expect(frameSize(0, 0)).toEqual({ width: 0, height: 0 });
  });
});

describe('frame decoding', () => {
  it('reads a text QR code: text and bytes', () => {
    const found = decodeWithJsqr(qrPixels(INVITE));
    expect(found?.text).toBe(INVITE);
    expect([...found!.bytes]).toEqual([...new TextEncoder().encode(INVITE)]);
  });

  it('keeps the exact bytes of a binary (byte-mode) code, as the safety number is', () => {
    const payload = Uint8Array.from({ length: 65 }, (_, i) => (i * 37 + 200) & 0xff);
    const found = decodeWithJsqr(qrPixels(payload));
    expect(found && [...found.bytes]).toEqual([...payload]);
  });

  it('finds nothing in a blank frame', () => {
    expect(decodeWithJsqr({ data: new Uint8ClampedArray(64 * 64 * 4).fill(255), width: 64, height: 64 })).toBeNull();
  });

  it('uses the platform detector for text when it knows qr_code, never for bytes', async () => {
    const detect = vi.fn(async () => [{ rawValue: 'from the platform' }]);
    class BarcodeDetector {
      static getSupportedFormats = async () => ['qr_code'];
      detect = detect;
    }
    const frame = qrPixels(INVITE) as unknown as ImageData;
    expect((await (await frameDecoder(false, { BarcodeDetector }))(frame))?.text).toBe('from the platform');
    expect((await (await frameDecoder(true, { BarcodeDetector }))(frame))?.text).toBe(INVITE);
    expect(detect).toHaveBeenCalledTimes(1);
    class NoQr {
      static getSupportedFormats = async () => ['ean_13'];
    }
    expect(await platformDetector({ BarcodeDetector: NoQr })).toBeNull();
    expect(await platformDetector({})).toBeNull();
  });
});

describe('scan buttons', () => {
  it('are hidden without a camera API', () => {
    withCamera(false);
    const el = mount(<AcceptInvite client={{} as PigeonClient} onAccepted={noop} onBack={noop} />);
    expect(el.querySelector('[data-testid=scan-qr]')).toBeNull();
  });

  it('a scanned invite link is accepted like a pasted one', async () => {
    withCamera(true);
    SCANNED.result = text('https://relay.example/app/#invite=AbC-12_x');
    const acceptInvite = vi.fn(async () => contact);
    const onAccepted = vi.fn();
    const el = mount(<AcceptInvite client={{ acceptInvite } as unknown as PigeonClient} onAccepted={onAccepted} onBack={noop} />);
    await clickScan(el);
    expect(acceptInvite).toHaveBeenCalledWith(INVITE);
    expect(onAccepted).toHaveBeenCalledWith(contact);
    expect(el.querySelector('[data-testid=qr-scanner]')).toBeNull();
  });

  it('a scanned group link asks to join', async () => {
    withCamera(true);
    SCANNED.result = text('pigeon://group/AQID');
    const onJoinGroup = vi.fn(async () => undefined);
    const el = mount(<AcceptInvite client={{} as PigeonClient} onAccepted={noop} onJoinGroup={onJoinGroup} onBack={noop} />);
    await clickScan(el);
    expect(onJoinGroup).toHaveBeenCalledWith('pigeon://group/AQID');
  });

  it('a scanned code that is not a Pigeon link says so', async () => {
    withCamera(true);
    SCANNED.result = text('https://example.org/menu');
    const acceptInvite = vi.fn();
    const el = mount(<AcceptInvite client={{ acceptInvite } as unknown as PigeonClient} onAccepted={noop} onBack={noop} />);
    await clickScan(el);
    expect(acceptInvite).not.toHaveBeenCalled();
    expect(el.querySelector('[data-testid=accept-error]')?.textContent).toBe('This QR code is not a Pigeon code.');
  });

  it('the primary adds the device whose code it scanned', async () => {
    withCamera(true);
    SCANNED.result = text(LINK_CODE);
    const added: DeviceAdded = { deviceId: 'd9', pigeonId: 'PGN-1', confirmationCode: '123456' } as DeviceAdded;
    const add = vi.fn(async () => added);
    const el = mount(<AddDevice client={{ devices: { add } } as unknown as PigeonClient} relayUrl="ws://r/pigeon" onClose={noop} />);
    await clickScan(el);
    expect(add).toHaveBeenCalledWith(LINK_CODE);
    expect(el.querySelector('[data-testid=added-confirmation-code]')?.textContent).toBe('123456');
  });

  it('safety: a matching scan verifies, a mismatch warns and changes nothing', async () => {
    withCamera(true);
    const verify = vi.fn(async (_id: string, bytes: Uint8Array) => bytes[0] === 1);
    const setVerified = vi.fn();
    const onChanged = vi.fn();
    const client = { safetyNumber: async () => ({ digits: '0'.repeat(60), display: '00000 '.repeat(12).trim(), qrPayload: Uint8Array.of(1) }), verifySafetyNumberQr: verify, setVerified } as unknown as PigeonClient;
    SCANNED.result = { text: '', bytes: Uint8Array.of(2, 3) };
    const el = mount(<SafetyPanel client={client} contact={contact} onChanged={onChanged} onBack={noop} />);
    await settle();
    expect(el.querySelector('[data-testid=scan-qr]')?.textContent).toBe('Scan their code');
    await clickScan(el);
    expect(SCANNED.needBytes).toEqual([true]);
    expect(verify).toHaveBeenCalledWith('c1', Uint8Array.of(2, 3));
    expect(el.querySelector('[data-testid=safety-scan-result]')?.getAttribute('data-outcome')).toBe('mismatch');
    expect(setVerified).not.toHaveBeenCalled();
    expect(onChanged).not.toHaveBeenCalled();

    SCANNED.result = { text: '', bytes: Uint8Array.of(1) };
    await clickScan(el);
    expect(setVerified).toHaveBeenCalledWith('c1', true);
    expect(onChanged).toHaveBeenCalledWith({ ...contact, verified: true });
    expect(el.querySelector('[data-testid=safety-scan-result]')?.textContent).toBe('The codes match: Bob is now verified.');
  });

  it('safety: a code that is not a safety number says so', async () => {
    withCamera(true);
    const setVerified = vi.fn();
    const verifySafetyNumberQr = vi.fn(async () => {
      throw Object.assign(new Error('bad'), { code: 'UNKNOWN_VERSION' });
    });
    const client = { safetyNumber: () => new Promise(noop), verifySafetyNumberQr, setVerified } as unknown as PigeonClient;
    SCANNED.result = text('hello');
    const el = mount(<SafetyPanel client={client} contact={contact} onChanged={noop} onBack={noop} />);
    await clickScan(el);
    expect(el.querySelector('[data-testid=safety-scan-result]')?.getAttribute('data-outcome')).toBe('not-safety');
    expect(setVerified).not.toHaveBeenCalled();
  });
});
