// A fake camera picture for Chromium (--use-file-for-fake-video-capture): a YUV4MPEG2 file whose
// frames show a QR code, grey planes neutral (128), luma black on white.
import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

/** Luma (0 = black, 255 = white) of a QR code: `scale` px per module, a `quiet`-module white margin. */
export function qrLuma(text, { scale = 6, quiet = 4 } = {}) {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const side = (modules.size + 2 * quiet) * scale;
  const luma = new Uint8Array(side * side).fill(255);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const row = Math.floor(y / scale) - quiet;
      const col = Math.floor(x / scale) - quiet;
      if (row >= 0 && col >= 0 && row < modules.size && col < modules.size && modules.get(row, col)) luma[y * side + x] = 0;
    }
  }
  return { luma, side };
}

/**
 * Writes `frames` identical frames of a `width` x `height` (even) white picture with the square
 * `picture` (luma, `side` x `side`) in its centre.
 */
export function writeY4m(path, { luma, side }, { width = 640, height = 480, frames = 2 } = {}) {
  if (width % 2 || height % 2 || side > width || side > height) throw new Error('bad y4m geometry');
  const y = new Uint8Array(width * height).fill(255);
  const left = Math.floor((width - side) / 2);
  const top = Math.floor((height - side) / 2);
  for (let row = 0; row < side; row++) y.set(luma.subarray(row * side, (row + 1) * side), (top + row) * width + left);
  const chroma = new Uint8Array((width / 2) * (height / 2) * 2).fill(128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, chroma]);
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([header, ...Array(frames).fill(frame)]));
}
