/**
 * @pigeon/lab: simulated censors for tests and benchmarks. Node only; never a production dependency.
 * See CONTEXT.md for each rule, its published parameters and sources, and how a client plugs in.
 */
export { NET_ERROR_CODES, NetError, LAB_ERROR_CODES, LabError } from './errors.js';
export type { NetErrorCode, LabErrorCode } from './errors.js';
export { RealClock, ManualClock, realClock } from './clock.js';
export type { Clock, TimerHandle } from './clock.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './seams.js';
export type { DialOptions, Dialer, Resolver } from './seams.js';
export { realDialer, realResolver, staticResolver } from './real-net.js';
export { socketFromDial, createConnectionVia, DialingSocket } from './socket-from-dial.js';
export type { CreateConnectionOptions } from './socket-from-dial.js';
export { destinationMatcher, nameMatcher, parseDestination, formatEndpoint } from './address.js';
export type { Endpoint, DestinationPattern, NamePattern } from './address.js';
export { Censor, DEFAULT_MSS, DEFAULT_CLIENT_IP, MAX_LOG_ENTRIES } from './censor.js';
export type { CensorOptions } from './censor.js';
export { CensoredSocket, QUEUE_HIGH_WATER_BYTES } from './censored-socket.js';
export type {
  Rule,
  CensorContext,
  FlowInfo,
  Packet,
  Direction,
  ConnectAttempt,
  ConnectVerdict,
  PacketVerdict,
  ResolveVerdict,
  LogEntry,
  LogAction,
} from './types.js';
export { parseClientHello, isGrease, MAX_CLIENT_HELLO_BYTES, MAX_RECORD_PAYLOAD, CLIENT_HELLO_PROBLEMS } from './client-hello.js';
export type { ClientHello, ClientHelloResult, ClientHelloProblem, TlsExtension } from './client-hello.js';
export {
  classifyFirstPacket,
  FET_POPCOUNT_LOW,
  FET_POPCOUNT_HIGH,
  FET_PRINTABLE_PREFIX,
  FET_PRINTABLE_FRACTION,
  FET_PRINTABLE_RUN,
} from './fully-encrypted.js';
export type { FetVerdict, FetExemption } from './fully-encrypted.js';
export { buildProbes, classifyAnswer, runProbe, MAX_PROBE_RESPONSE_BYTES, DEFAULT_PROBE_TIMEOUT_MS } from './probe.js';
export type { ProbeKind, ProbeOutcome, ProbeClass, ProbeResult, ProbeTarget, Probe } from './probe.js';
export { ipBlock } from './rules/ip-block.js';
export type { IpBlockOptions } from './rules/ip-block.js';
export { dnsPoison, DEFAULT_BOGUS_ADDRESS } from './rules/dns-poison.js';
export type { DnsPoisonOptions } from './rules/dns-poison.js';
export { sniFilter, DEFAULT_SNI_PASS_PACKETS, DEFAULT_SNI_RESIDUAL_MS } from './rules/sni-filter.js';
export type { SniFilterOptions, SniFilterMode } from './rules/sni-filter.js';
export { throttle, DEFAULT_THROTTLE_BPS, DEFAULT_THROTTLE_BURST_BYTES } from './rules/throttle.js';
export type { ThrottleOptions } from './rules/throttle.js';
export { freeze, DEFAULT_FREEZE_BYTES } from './rules/freeze.js';
export type { FreezeOptions } from './rules/freeze.js';
export { allowlist } from './rules/allowlist.js';
export type { AllowlistOptions, AllowEntry } from './rules/allowlist.js';
export { fullyEncryptedDetection, DEFAULT_FET_RESIDUAL_MS } from './rules/fully-encrypted-detection.js';
export type { FullyEncryptedDetectionOptions } from './rules/fully-encrypted-detection.js';
export { activeProbing, DEFAULT_PROBE_DELAY_MS, DEFAULT_PROBES, DEFAULT_RANDOM_PROBE_LENGTHS } from './rules/active-probing.js';
export type { ActiveProbingOptions, ActiveProbingRule, ProbingVerdict } from './rules/active-probing.js';
export {
  connectionRate,
  DEFAULT_RATE_MAX_CONNECTIONS,
  DEFAULT_RATE_WINDOW_MS,
  DEFAULT_RATE_COOLDOWN_MS,
} from './rules/connection-rate.js';
export type { ConnectionRateOptions } from './rules/connection-rate.js';
export { MAX_RESIDUAL_ENTRIES } from './rules/residual.js';
export { startTestServer, WEBSITE_PAGE } from './test-server.js';
export type { TestServer, TestServerKind, TestServerOptions } from './test-server.js';
export { testCertificate, DEFAULT_CERT_NAMES } from './test-certificate.js';
export type { TestCertificate } from './test-certificate.js';
