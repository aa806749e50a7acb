/**
 * Benchmark envelope layout (the relay treats envelopes as opaque bytes):
 *   [0..8)  float64 LE send time, ms since the epoch (performance.timeOrigin + now(): every
 *           process on the machine reads the same clock)
 *   [8..12) u32 LE step number     [12..16) u32 LE sending generator     [16..256) random
 */
export const ENVELOPE_BYTES = 256;
