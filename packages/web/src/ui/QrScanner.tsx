/**
 * The camera dialog: the rear camera in a <video>, a frame decoded every SCAN_INTERVAL_MS until a
 * QR code is found, then the camera is stopped and the result handed over. Loaded lazily (by
 * ScanButton) so the decoder is its own chunk. Frames are decoded in the page; nothing is sent.
 *
 * The camera tracks are stopped on every way out (result, Cancel, Escape, unmount), also when
 * getUserMedia resolves after the dialog is already gone: a forgotten track keeps the camera light on.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { frameDecoder } from '../logic/qr-decode.js';
import { cameraProblem, frameSize, preflightProblem, SCAN_INTERVAL_MS, SCAN_PROBLEM_TEXT } from '../logic/qr-scan.js';
import type { ScanProblem, ScanResult } from '../logic/qr-scan.js';
import { useI18n } from './i18n-context.js';
import { useDialogFocus } from './useDialogFocus.js';

export interface QrScannerProps {
  /** Byte-mode codes (the safety number): the raw bytes must be exact, so jsQR decodes. */
  readonly needBytes?: boolean;
  readonly onResult: (result: ScanResult) => void;
  readonly onClose: () => void;
}

export default function QrScanner({ needBytes = false, onResult, onClose }: QrScannerProps) {
  const { t } = useI18n();
  const video = useRef<HTMLVideoElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog);
  const [problem, setProblem] = useState<ScanProblem | null>(null);
  const [started, setStarted] = useState(false);
  // The latest callbacks, so the camera effect runs once and still calls the current ones.
  const callbacks = useRef({ onResult, onClose });
  callbacks.current = { onResult, onClose };

  useEffect(() => {
    cancelButton.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        callbacks.current.onClose();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    let live = true;
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = () => {
      live = false;
      clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
      stream = null;
    };
    const early = preflightProblem();
    if (early) {
      setProblem(early);
      return stop;
    }
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d', { willReadFrequently: true });
    const tick = async (decode: Awaited<ReturnType<typeof frameDecoder>>) => {
      const v = video.current;
      if (!live) return;
      if (v && context && v.readyState >= v.HAVE_CURRENT_DATA) {
        const { width, height } = frameSize(v.videoWidth, v.videoHeight);
        if (width > 0) {
          canvas.width = width;
          canvas.height = height;
          context.drawImage(v, 0, 0, width, height);
          const found = await decode(context.getImageData(0, 0, width, height)).catch(() => null);
          if (!live) return;
          if (found) {
            stop();
            callbacks.current.onResult(found);
            return;
          }
        }
      }
      timer = setTimeout(() => void tick(decode), SCAN_INTERVAL_MS);
    };
    (async () => {
      try {
        const media = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
        if (!live) {
          media.getTracks().forEach((track) => track.stop());
          return;
        }
        stream = media;
        const v = video.current;
        if (v) {
          v.srcObject = media;
          await Promise.resolve(v.play()).catch(() => undefined);
        }
        const decode = await frameDecoder(needBytes);
        if (!live) return;
        setStarted(true);
        void tick(decode);
      } catch (err) {
        if (live) setProblem(cameraProblem(err));
      }
    })();
    return stop;
  }, [needBytes]);

  return (
    <div ref={dialog} class="scanner" role="dialog" aria-modal="true" aria-labelledby="scanner-title" data-testid="qr-scanner">
      <div class="scanner-box">
        <h3 id="scanner-title">{t('scanTitle')}</h3>
        {problem ? (
          <p class="error" role="alert" data-testid="scan-problem" data-problem={problem}>
            {t(SCAN_PROBLEM_TEXT[problem])}
          </p>
        ) : (
          <>
            <video ref={video} class="scanner-video" muted playsInline autoPlay aria-label={t('scanVideo')} />
            <p class="hint" aria-live="polite">
              {started ? t('scanAim') : t('scanStarting')}
            </p>
          </>
        )}
        <p class="hint">{t('scanPrivacy')}</p>
        <button ref={cancelButton} type="button" class="secondary" onClick={() => callbacks.current.onClose()}>
          {t('cancel')}
        </button>
      </div>
    </div>
  );
}
