/** A QR code as RGBA pixels (black on white, quiet zone), for decoder tests without a camera. */
import QRCode from 'qrcode';

export function qrPixels(data: string | Uint8Array, scale = 4, quiet = 4): { data: Uint8ClampedArray; width: number; height: number } {
  const segments = typeof data === 'string' ? data : [{ data, mode: 'byte' as const }];
  const { modules } = QRCode.create(segments as never, { errorCorrectionLevel: 'M' });
  const side = (modules.size + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const row = Math.floor(y / scale) - quiet;
      const col = Math.floor(x / scale) - quiet;
      const dark = row >= 0 && col >= 0 && row < modules.size && col < modules.size && modules.get(row, col);
      if (dark) pixels.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    }
  }
  return { data: pixels, width: side, height: side };
}
