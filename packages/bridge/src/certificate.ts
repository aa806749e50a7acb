/**
 * The bridge's TLS certificate. Operators may pass their own (--tls-cert/--tls-key, e.g. from
 * Let's Encrypt for a real domain). Otherwise, on first run, we make a self-signed P-256 one with
 * the `openssl` command line (no key generation code of our own) and keep it in the data
 * directory; clients do not need a CA because the bridge link pins the certificate's SHA-256.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { BridgeError } from './errors.js';

export const CERT_FILE = 'bridge-cert.pem';
export const KEY_FILE = 'bridge-key.pem';
/** Self-signed certificates last this long (a bridge link pins one; a new one needs a new link). */
export const SELF_SIGNED_DAYS = 825;

export interface BridgeCertificate {
  readonly cert: string;
  readonly key: string;
  /** SHA-256 of the DER certificate, 32 bytes (what the link pins). */
  readonly sha256: Uint8Array;
}

export function certificateSha256(certPem: string): Uint8Array {
  try {
    return new Uint8Array(Buffer.from(new X509Certificate(certPem).fingerprint256.replace(/:/g, ''), 'hex'));
  } catch (cause) {
    throw new BridgeError('NO_CERTIFICATE', 'the certificate is not valid PEM', { cause });
  }
}

export function loadCertificate(certPath: string, keyPath: string): BridgeCertificate {
  try {
    const cert = readFileSync(certPath, 'utf8');
    const key = readFileSync(keyPath, 'utf8');
    return { cert, key, sha256: certificateSha256(cert) };
  } catch (cause) {
    if (cause instanceof BridgeError) throw cause;
    throw new BridgeError('NO_CERTIFICATE', `cannot read ${certPath} / ${keyPath}`, { cause });
  }
}

/** Loads the certificate in `dir`, or makes one with openssl (subject CN = `commonName`). */
export function ensureCertificate(dir: string, commonName: string): BridgeCertificate {
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) return loadCertificate(certPath, keyPath);
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(commonName)) throw new BridgeError('BAD_OPTION', 'certificate name must be a host name');
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', keyPath, '-out', certPath, '-days', String(SELF_SIGNED_DAYS),
        '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`,
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    chmodSync(keyPath, 0o600);
  } catch (cause) {
    throw new BridgeError('NO_CERTIFICATE', 'openssl is not available to make a certificate; pass --tls-cert and --tls-key', { cause });
  }
  return loadCertificate(certPath, keyPath);
}
