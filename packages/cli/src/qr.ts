import QRCode from 'qrcode';

/** A QR code drawn with block characters, for scanning straight off the terminal. */
export async function terminalQr(data: string | Uint8Array): Promise<string> {
  const input = typeof data === 'string' ? data : [{ data: Buffer.from(data), mode: 'byte' as const }];
  return QRCode.toString(input, { type: 'terminal', small: true, errorCorrectionLevel: 'L' });
}
