/** @pigeon/bridge: the `pigeon bridge` server. See CONTEXT.md and docs/transport.md "Bridge". */
export { startBridge, MAX_TUNNEL_BODY_BYTES, MAX_PENDING_FRAMES, KEEP_ALIVE_TIMEOUT_MS } from './bridge.js';
export type { BridgeOptions, RunningBridge, BridgeStats } from './bridge.js';
export { ensureCertificate, loadCertificate, certificateSha256, CERT_FILE, KEY_FILE, SELF_SIGNED_DAYS } from './certificate.js';
export type { BridgeCertificate } from './certificate.js';
export { loadOrCreateState, STATE_FILE } from './state.js';
export type { BridgeState } from './state.js';
export { TunnelServer, DEFAULT_POLL_HOLD_MS, DEFAULT_SESSION_IDLE_MS, MAX_TUNNEL_SESSIONS, MAX_SESSION_BUFFER_BYTES } from './tunnel-server.js';
export { BRIDGE_ERROR_CODES, BridgeError } from './errors.js';
export type { BridgeErrorCode } from './errors.js';
export { serveWebsite, refuseUpgrade, BRIDGE_INDEX_HTML } from './website.js';
