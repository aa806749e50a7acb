/**
 * "Scan QR code" beside a paste field. Shown only where the browser has a camera API; the camera
 * dialog (and its decoder) is fetched on the first click, so none of it is in the first load.
 */
import { useRef, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { canScan } from '../logic/qr-scan.js';
import type { ScanResult } from '../logic/qr-scan.js';
import { useI18n } from './i18n-context.js';
import type { QrScannerProps } from './QrScanner.js';

let scannerModule: Promise<ComponentType<QrScannerProps>> | null = null;
function loadScanner(): Promise<ComponentType<QrScannerProps>> {
  scannerModule ??= import('./QrScanner.js').then(
    (m) => m.default,
    (err: unknown) => {
      scannerModule = null; // a failed chunk load (offline) may be retried by the next click
      throw err;
    },
  );
  return scannerModule;
}

export function ScanButton({ onScan, needBytes = false, label, disabled = false }: { onScan: (result: ScanResult) => void; needBytes?: boolean; label?: string; disabled?: boolean }) {
  const { t } = useI18n();
  const [Scanner, setScanner] = useState<ComponentType<QrScannerProps> | null>(null);
  const [failed, setFailed] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  if (!canScan()) return null;
  const open = () => {
    setFailed(false);
    loadScanner().then(
      (component) => setScanner(() => component),
      () => setFailed(true),
    );
  };
  const close = () => {
    setScanner(null);
    button.current?.focus();
  };
  return (
    <>
      <button ref={button} type="button" class="secondary scan-button" data-testid="scan-qr" onClick={open} disabled={disabled}>
        {label ?? t('scanQr')}
      </button>
      {failed && (
        <p class="error" role="alert">
          {t('scanErrFailed')}
        </p>
      )}
      {Scanner && (
        <Scanner
          needBytes={needBytes}
          onClose={close}
          onResult={(result) => {
            close();
            onScan(result);
          }}
        />
      )}
    </>
  );
}

/** A form that takes a pasted or a scanned code: both go the same way (`use`), a scan fills the field too. */
export function pasteOrScan(text: string, setText: (text: string) => void, use: (input: string, scanned: boolean) => Promise<void>) {
  return {
    submit(e: Event) {
      e.preventDefault();
      void use(text, false);
    },
    scan({ text: scanned }: { text: string }) {
      setText(scanned);
      void use(scanned, true);
    },
  };
}
