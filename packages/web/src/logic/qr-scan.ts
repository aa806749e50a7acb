/**
 * QR scanning, the parts without a camera: whether the page can scan at all, the typed reasons a
 * camera does not start, what a decoded code is, and how big a frame to decode. The camera and the
 * decoder themselves are in `ui/QrScanner.tsx` and `logic/qr-decode.ts`, loaded on first use.
 *
 * Nothing here or there sends anything anywhere: frames are decoded in the page and dropped.
 */

/** A decoded QR code: its text, and its raw bytes (a safety-number code is binary, byte mode). */
export interface ScanResult {
  readonly text: string;
  readonly bytes: Uint8Array;
}

/** Why the camera did not start (each has its own message for the user). */
export type ScanProblem = 'NO_CAMERA' | 'PERMISSION_DENIED' | 'INSECURE_CONTEXT' | 'CAMERA_BUSY' | 'CAMERA_FAILED';

export const SCAN_PROBLEM_TEXT = {
  NO_CAMERA: 'scanErrNoCamera',
  PERMISSION_DENIED: 'scanErrDenied',
  INSECURE_CONTEXT: 'scanErrInsecure',
  CAMERA_BUSY: 'scanErrBusy',
  CAMERA_FAILED: 'scanErrFailed',
} as const satisfies Record<ScanProblem, string>;

interface CameraEnv {
  readonly isSecureContext?: boolean;
  readonly navigator?: { readonly mediaDevices?: { readonly getUserMedia?: unknown } };
}

/** The "Scan QR code" button is offered only where the browser has a camera API at all. */
export function canScan(env: CameraEnv = globalThis as CameraEnv): boolean {
  return typeof env.navigator?.mediaDevices?.getUserMedia === 'function';
}

/**
 * Checked before asking for the camera. Browsers hide `mediaDevices` on plain http pages, so an
 * insecure page is named as such rather than as "no camera".
 */
export function preflightProblem(env: CameraEnv = globalThis as CameraEnv): ScanProblem | null {
  if (env.isSecureContext === false) return 'INSECURE_CONTEXT';
  if (!canScan(env)) return 'NO_CAMERA';
  return null;
}

/** A getUserMedia rejection as a ScanProblem (DOMException names, per the Media Capture spec). */
export function cameraProblem(err: unknown): ScanProblem {
  const name = typeof err === 'object' && err !== null ? String((err as { name?: unknown }).name ?? '') : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
      return 'PERMISSION_DENIED';
    case 'SecurityError':
      return 'INSECURE_CONTEXT';
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return 'NO_CAMERA';
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return 'CAMERA_BUSY';
    default:
      return 'CAMERA_FAILED';
  }
}

/** Frames are decoded at most this many pixels on their longer side (decoding time grows with area). */
export const MAX_FRAME_SIDE = 800;
/** How often a frame is decoded: quick enough to feel instant, light enough for a phone. */
export const SCAN_INTERVAL_MS = 200;

/** The canvas size for a video frame: the frame itself, scaled down to MAX_FRAME_SIDE if larger. */
export function frameSize(width: number, height: number, max = MAX_FRAME_SIDE): { width: number; height: number } {
  if (!(width > 0 && height > 0)) return { width: 0, height: 0 };
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}
