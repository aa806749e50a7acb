/**
 * Decodes one camera frame. Loaded only with the scanner (`ui/QrScanner.tsx`), so jsQR stays out
 * of the first-load bundle. The frame never leaves the page.
 *
 * The platform BarcodeDetector is used when it exists and knows 'qr_code' (fast, native), but it
 * only returns text: byte-mode codes (the safety number) would lose their bytes, so `needBytes`
 * always uses jsQR, which returns the raw bytes.
 */
import jsQR from 'jsqr';
import type { ScanResult } from './qr-scan.js';

export interface Frame {
  readonly data: Uint8ClampedArray;
  readonly width: number;
  readonly height: number;
}

/** jsQR on RGBA pixels; null when no code is in the frame. */
export function decodeWithJsqr(frame: Frame): ScanResult | null {
  const code = jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'dontInvert' });
  if (!code) return null;
  return { text: code.data, bytes: Uint8Array.from(code.binaryData) };
}

interface DetectedBarcode {
  readonly rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource | ImageData): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

/** The platform's QR detector, or null where there is none (most desktop browsers). */
export async function platformDetector(env: { BarcodeDetector?: unknown } = globalThis as never): Promise<BarcodeDetectorLike | null> {
  const Detector = env.BarcodeDetector as BarcodeDetectorClass | undefined;
  if (typeof Detector !== 'function') return null;
  try {
    const formats = await Detector.getSupportedFormats();
    return formats.includes('qr_code') ? new Detector({ formats: ['qr_code'] }) : null;
  } catch {
    return null;
  }
}

export type FrameDecoder = (frame: ImageData) => Promise<ScanResult | null>;

/** The decoder to use for a scan: the platform's for text codes when it has one, else jsQR. */
export async function frameDecoder(needBytes: boolean, env?: { BarcodeDetector?: unknown }): Promise<FrameDecoder> {
  const detector = needBytes ? null : await platformDetector(env);
  if (!detector) return async (frame) => decodeWithJsqr(frame);
  const encoder = new TextEncoder();
  return async (frame) => {
    try {
      const [first] = await detector.detect(frame);
      return first ? { text: first.rawValue, bytes: encoder.encode(first.rawValue) } : null;
    } catch {
      // A detector that fails on a frame (some do on odd sizes) gives the frame to jsQR instead.
      return decodeWithJsqr(frame);
    }
  };
}
