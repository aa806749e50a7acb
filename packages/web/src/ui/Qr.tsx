/**
 * A QR code as an <img> of an SVG data URL. The qrcode library is loaded on first use, so it is
 * not part of the first-load bundle.
 */
import { useEffect, useState } from 'preact/hooks';

export type QrData = string | Uint8Array;

export async function qrSvg(data: QrData): Promise<string> {
  const { toString } = await import('qrcode');
  const segments = typeof data === 'string' ? data : [{ data, mode: 'byte' as const }];
  return toString(segments as never, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export function Qr({ data, label, size = 220 }: { data: QrData; label: string; size?: number }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    qrSvg(data).then(
      (svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`),
      () => live && setSrc(null),
    );
    return () => {
      live = false;
    };
  }, [data]);
  return (
    <div class="qr" style={{ width: `${size}px`, height: `${size}px` }}>
      {src ? <img src={src} alt={label} width={size} height={size} /> : <span class="qr-placeholder" aria-hidden="true" />}
    </div>
  );
}
