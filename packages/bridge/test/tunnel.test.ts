/**
 * The tunnel's invariant: no connection carries more than its byte budget either way, whatever
 * the traffic, so a per-connection byte counter (the 16-20 KB freeze) never trips.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelayFrame, encodeClientFrame } from '@pigeon/api';
import { defaultBackend, toHex } from '@pigeon/crypto';
import { Censor, freeze } from '@pigeon/lab';
import { FETCH_ALPN, decodeBridgeLink, openTunnelChannel } from '@pigeon/transport';
import { startLabBridge, startLabRelay } from './helpers.js';
import type { LabRelay } from './helpers.js';
import type { RunningBridge } from '../src/index.js';

describe('tunnel byte budget', () => {
  let relay: LabRelay;
  let bridge: RunningBridge;
  before(async () => {
    relay = await startLabRelay();
    bridge = await startLabBridge(relay.url, { pollHoldMs: 1_000 });
  });
  after(async () => {
    await bridge.stop();
    await relay.stop();
  });

  it('200 request/reply pairs through a 4 KB budget under an 8 KB freeze: nothing lost, no connection over budget', async () => {
    const budget = 4096;
    const censor = new Censor({ rules: [freeze({ destinations: [`127.0.0.1:${bridge.port}`], thresholdBytes: 8192 })] });
    const b = decodeBridgeLink(bridge.link);
    const pongs = new Set<number>();
    let challenge = false;
    const started = Date.now();
    const total = 200;
    const channel = await new Promise<ReturnType<typeof openTunnelChannel>>((resolve, reject) => {
      const ch = openTunnelChannel(
        b,
        {
          onOpen: () => resolve(ch),
          onMessage: (data) => {
            const f = decodeRelayFrame(data);
            if (f.type === 'challenge') challenge = true;
            else if (f.type === 'pong') pongs.add(f.id);
          },
          onClose: (code, reason) => reject(new Error(`closed ${code} ${reason}\n${censor.explain()}`)),
        },
        {
          net: { dialer: censor.dialer, resolver: censor.resolver },
          crypto: defaultBackend(),
          now: Date.now,
          plan: { host: b.host, port: b.port, tls: { servername: 'static.example', pinSha256: toHex(b.certSha256), alpn: FETCH_ALPN } },
          tuning: { budgetBytes: budget },
        },
      );
    });
    try {
      for (let id = 1; id <= total; id++) {
        channel.send(encodeClientFrame({ type: 'ping', id }));
        if (id % 20 === 0) await new Promise((r) => setTimeout(r, 20));
      }
      const deadline = Date.now() + 45_000;
      while (pongs.size < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(challenge);
      assert.equal(pongs.size, total, censor.explain());
      const s = channel.stats;
      console.log(`# tunnel: ${total} pings in ${Date.now() - started} ms over ${s.connections} connections, ${s.exchanges} exchanges; max per connection ${s.maxSentPerConnection} B up / ${s.maxReceivedPerConnection} B down (budget ${budget})`);
      assert.ok(s.maxSentPerConnection <= budget && s.maxReceivedPerConnection <= budget, JSON.stringify(s));
      assert.ok(s.connections > 2, 'the budget forced new connections');
      assert.equal(censor.log.filter((e) => e.rule === 'freeze').length, 0, censor.explain());
    } finally {
      channel.close();
      await censor.close();
    }
  });
});
