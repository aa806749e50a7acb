/**
 * RouteMeter on frames the SDK really sends (the api codec) and a hand-driven clock: what counts as
 * data pending, when a window is judged, and which windows are slow (throttled) and which are not
 * (fast, far away, or too little data to tell).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeClientFrame } from '@pigeon/api';
import {
  JUDGE_BUSY_MS,
  JUDGE_MIN_BYTES,
  JUDGE_WINDOW_MAX_MS,
  RACER_PING_ID_BASE,
  RouteMeter,
  SLOW_RATE_BPS,
  replyIdOf,
  requestIdOf,
} from '../src/index.js';

const RELAY_OK = 0x82;
const RELAY_PONG = 0x88;
const RELAY_DELIVER = 0x86;

function reply(type: number, id: number): Uint8Array {
  return new Uint8Array([1, type, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);
}

function sendFrame(id: number, envelopeBytes: number): Uint8Array {
  return encodeClientFrame({
    type: 'send',
    id,
    messageId: new Uint8Array(16),
    recipientDeviceId: new Uint8Array(16),
    deliveryToken: new Uint8Array(32),
    envelope: new Uint8Array(envelopeBytes),
  });
}

function push(bytes: number): Uint8Array {
  const f = new Uint8Array(bytes);
  f[0] = 1;
  f[1] = RELAY_DELIVER;
  return f;
}

class Clock {
  t = 1_000_000;
  readonly now = () => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A route moving `bytesPerSecond` of 4 KB sends, `inFlight` at a time, each reply `extraRttMs` late. */
function drive(meter: RouteMeter, clock: Clock, opts: { bytesPerSecond: number; durationMs: number; baseRttMs: number }) {
  // An idle ping first: the route's baseline.
  meter.sent(encodeClientFrame({ type: 'ping', id: 1 }));
  clock.advance(opts.baseRttMs);
  meter.received(reply(RELAY_PONG, 1));
  let id = 2;
  const size = 4_000;
  const perSend = (size / opts.bytesPerSecond) * 1000;
  // Pipelined: 8 sends on the wire; each answer comes after its bytes went through at the rate.
  const queue: number[] = [];
  for (let i = 0; i < 8; i++) {
    meter.sent(sendFrame(id, size));
    queue.push(id++);
  }
  let elapsed = 0;
  while (elapsed < opts.durationMs) {
    clock.advance(perSend);
    elapsed += perSend;
    meter.received(reply(RELAY_OK, queue.shift()!));
    meter.sent(sendFrame(id, size));
    queue.push(id++);
  }
}

describe('route meter', () => {
  it('reads request ids from client frames and reply ids from relay answers, not from pushes', () => {
    assert.equal(requestIdOf(encodeClientFrame({ type: 'ping', id: 77 })), 77);
    assert.equal(requestIdOf(sendFrame(0x01020304, 10)), 0x01020304);
    assert.equal(requestIdOf(reply(RELAY_OK, 5)), undefined);
    assert.equal(replyIdOf(reply(RELAY_OK, 5)), 5);
    assert.equal(replyIdOf(reply(RELAY_PONG, RACER_PING_ID_BASE + 1)), RACER_PING_ID_BASE + 1);
    assert.equal(replyIdOf(push(100)), undefined);
    assert.equal(replyIdOf(reply(0x83, 0)), undefined, 'an error with id 0 answers nothing');
    assert.equal(replyIdOf(new Uint8Array([1, RELAY_OK])), undefined, 'truncated');
  });

  it('a route throttled to 130 kbit/s with sends pending is slow', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    drive(meter, clock, { bytesPerSecond: 130_000 / 8, durationMs: JUDGE_BUSY_MS + 500, baseRttMs: 20 });
    const v = meter.judge();
    assert.ok(v !== undefined);
    assert.equal(v.slow, true, JSON.stringify(v));
    assert.ok(v.rateBps < SLOW_RATE_BPS && v.rateBps > 100_000, `rate ${v.rateBps}`);
    assert.equal(v.baselineRttMs, 20);
  });

  it('a fast route with the same traffic is not slow', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    drive(meter, clock, { bytesPerSecond: 2_000_000, durationMs: JUDGE_BUSY_MS + 500, baseRttMs: 20 });
    const v = meter.judge();
    assert.ok(v !== undefined);
    assert.equal(v.slow, false, JSON.stringify(v));
  });

  it('a far-away route (long RTT, replies no later than its idle pings) is not throttled', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    // 600 ms satellite RTT, one small request at a time: a low rate, but nothing queues.
    meter.sent(encodeClientFrame({ type: 'ping', id: 1 }));
    clock.advance(600);
    meter.received(reply(RELAY_PONG, 1));
    for (let id = 2; id < 12; id++) {
      meter.sent(sendFrame(id, 2_000));
      clock.advance(600);
      meter.received(reply(RELAY_OK, id));
    }
    const v = meter.judge();
    assert.ok(v !== undefined);
    assert.ok(v.rateBps < SLOW_RATE_BPS);
    assert.equal(v.slow, false, JSON.stringify(v));
  });

  it('downstream: pushes queued ahead of a pong count, and a late pong makes the route slow', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    meter.sent(encodeClientFrame({ type: 'ping', id: 1 }));
    clock.advance(5);
    meter.received(reply(RELAY_PONG, 1));
    meter.sent(encodeClientFrame({ type: 'ack', id: 2, messageIds: [] }));
    // 40 KB of deliveries trickle in at ~16 KB/s before the ack's answer.
    for (let i = 0; i < 10; i++) {
      clock.advance(250);
      meter.received(push(4_000));
    }
    meter.received(reply(RELAY_OK, 2));
    const v = meter.judge();
    assert.ok(v !== undefined);
    assert.equal(v.slow, true, JSON.stringify(v));
  });

  it('no verdict without enough busy time and bytes; a stale window is dropped', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    // Pings only: lots of time passes, almost nothing pending.
    for (let id = 1; id < 20; id++) {
      meter.sent(encodeClientFrame({ type: 'ping', id }));
      clock.advance(200);
      meter.received(reply(RELAY_PONG, id));
      clock.advance(1_800);
    }
    assert.equal(meter.judge(), undefined, `needs ${JUDGE_MIN_BYTES} bytes`);
    clock.advance(JUDGE_WINDOW_MAX_MS);
    assert.equal(meter.judge(), undefined);
    // The dropped window's busy time does not help the next one.
    meter.sent(sendFrame(100, 20_000));
    clock.advance(100);
    meter.received(reply(RELAY_OK, 100));
    assert.equal(meter.judge(), undefined, 'only 100 ms busy in the new window');
  });

  it('nothing answered at all: the pending bytes and their age are judged', () => {
    const clock = new Clock();
    const meter = new RouteMeter(clock.now);
    meter.sent(encodeClientFrame({ type: 'ping', id: 1 }));
    clock.advance(10);
    meter.received(reply(RELAY_PONG, 1));
    for (let id = 2; id < 8; id++) meter.sent(sendFrame(id, 4_000));
    clock.advance(JUDGE_BUSY_MS);
    const v = meter.judge();
    assert.ok(v !== undefined);
    assert.equal(v.slow, true, JSON.stringify(v));
    assert.ok(v.rateBps < 1_000, `rate ${v.rateBps}`);
  });
});
