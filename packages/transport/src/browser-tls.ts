/**
 * TLS client settings that make our ClientHello as close to a current Chrome's as Node 20's
 * OpenSSL 3.0 allows (CENSORS.md 14: an unusual ClientHello is a fingerprint; never send
 * fully-random first bytes, CENSORS.md 12: a TLS record is exemption Ex5 by itself).
 *
 * Matched: cipher suite list and order (TLS 1.3 suites first, then ECDHE-GCM/ChaCha, then the
 * legacy CBC/RSA tail Chrome still offers), supported groups X25519 first, signature algorithms
 * and their order, ALPN, TLS 1.2..1.3 supported_versions, SNI.
 * Not matched (OpenSSL cannot, see docs/transport.md "ClientHello"): GREASE values, Chrome's
 * per-connection extension-order shuffle, the X25519MLKEM768 hybrid key share, certificate
 * compression (brotli), ALPS (application_settings), ECH GREASE, the padding extension sizing.
 * A JA3/JA4 database will therefore call this "OpenSSL 3 client", which is what most Linux
 * software (curl, Python, Node) looks like: common, not unique.
 */
export const BROWSER_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-SHA',
  'ECDHE-RSA-AES256-SHA',
  'AES128-GCM-SHA256',
  'AES256-GCM-SHA384',
  'AES128-SHA',
  'AES256-SHA',
].join(':');

/** Chrome's supported_groups minus the post-quantum hybrid and GREASE. */
export const BROWSER_CURVES = 'X25519:P-256:P-384';

export const BROWSER_SIGALGS = [
  'ecdsa_secp256r1_sha256',
  'rsa_pss_rsae_sha256',
  'rsa_pkcs1_sha256',
  'ecdsa_secp384r1_sha384',
  'rsa_pss_rsae_sha384',
  'rsa_pkcs1_sha384',
  'rsa_pss_rsae_sha512',
  'rsa_pkcs1_sha512',
].join(':');

/**
 * ALPN. Chrome's own WebSocket connections offer only http/1.1 (RFC 6455 needs HTTP/1.1 unless
 * RFC 8441 is used), so WebSocket routes do too; a page fetch offers h2 first. The tunnel offers
 * the fetch list to our own bridge, which always selects http/1.1; a third-party front that would
 * pick h2 must be configured with WEBSOCKET_ALPN.
 */
export const WEBSOCKET_ALPN: readonly string[] = ['http/1.1'];
export const FETCH_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** The User-Agent our HTTP requests carry (a current stable desktop Chrome). */
export const BROWSER_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

export function browserTlsOptions(): { ciphers: string; ecdhCurve: string; sigalgs: string; minVersion: 'TLSv1.2'; maxVersion: 'TLSv1.3' } {
  return { ciphers: BROWSER_CIPHERS, ecdhCurve: BROWSER_CURVES, sigalgs: BROWSER_SIGALGS, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
}
