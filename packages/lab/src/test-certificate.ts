/**
 * A self-signed certificate for the lab's TLS servers. Node cannot create X.509 certificates, so
 * this asks `openssl` for a fresh one (P-256, valid 2 days) and, when openssl is missing, falls back
 * to the TEST-ONLY pair in ../../fixtures (its key is public; it must never leave the lab).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { LabError } from './errors.js';

export interface TestCertificate {
  readonly cert: string;
  readonly key: string;
  /** 'openssl' (fresh) or 'fixture' (the shipped test-only pair). */
  readonly source: 'openssl' | 'fixture';
}

export const DEFAULT_CERT_NAMES: readonly string[] = ['lab.test', '*.lab.test', 'localhost', '127.0.0.1'];
const OPENSSL_TIMEOUT_MS = 15_000;
const cache = new Map<string, TestCertificate>();

function fromOpenssl(names: readonly string[]): TestCertificate | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'pigeon-lab-cert-'));
  try {
    const san = names.map((n) => (isIP(n) !== 0 ? `IP:${n}` : `DNS:${n}`)).join(',');
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const run = spawnSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', `/CN=${names[0] ?? 'lab.test'}`, '-addext', `subjectAltName=${san}`],
      { timeout: OPENSSL_TIMEOUT_MS, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (run.status !== 0) return undefined;
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), source: 'openssl' };
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fromFixture(): TestCertificate {
  try {
    const base = new URL('../../fixtures/', import.meta.url);
    return {
      cert: readFileSync(new URL('test-only-cert.pem', base), 'utf8'),
      key: readFileSync(new URL('test-only-key.pem', base), 'utf8'),
      source: 'fixture',
    };
  } catch (err) {
    throw new LabError('NO_CERTIFICATE', 'openssl failed and the test-only certificate fixture is missing', { cause: err });
  }
}

/**
 * A certificate for `names` (DNS names or IPs; the first is the CN). Cached per name list.
 * The fixture is used when openssl fails; it covers only DEFAULT_CERT_NAMES.
 */
export function testCertificate(names: readonly string[] = DEFAULT_CERT_NAMES): TestCertificate {
  const key = names.join(',');
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const made = fromOpenssl(names) ?? fromFixture();
  cache.set(key, made);
  return made;
}
