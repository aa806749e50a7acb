/**
 * A test cluster: three relay node processes (bin.js --store postgres://... --bus redis://...)
 * on a throwaway database and a unique Redis channel prefix, plus registered recipient devices.
 */
import { randomBytes } from 'node:crypto';
import type { TestDatabases } from '../postgres-test-db.js';
import { startNode, stopNode, type NodeProcess } from './cluster-nodes.js';
import { randomToken, registered, setTokens } from './harness.js';
import type { Target } from './app-client.js';
import { REDIS_URL } from './services.js';

export const NODE_COUNT = 3;

export class TestCluster {
  readonly nodes: NodeProcess[] = [];
  readonly prefix = `pigeon-test-${process.pid}-${randomBytes(4).toString('hex')}:`;

  private constructor(
    readonly databaseUrl: string,
    private readonly extraArgs: readonly string[],
  ) {}

  /** Creates the database and starts the nodes all at once (they race for the migrations). */
  static async start(dbs: TestDatabases, extraArgs: readonly string[] = []): Promise<TestCluster> {
    const [url] = await dbs.create(1);
    const cluster = new TestCluster(url!, extraArgs);
    const started = await Promise.all(Array.from({ length: NODE_COUNT }, (_, i) => cluster.spawn(i)));
    cluster.nodes.push(...started);
    return cluster;
  }

  private spawn(i: number): Promise<NodeProcess> {
    return startNode(['--store', this.databaseUrl, '--bus', REDIS_URL, '--bus-prefix', this.prefix, '--node-id', `node${i}-${randomBytes(2).toString('hex')}`, '--quiet', ...this.extraArgs]);
  }

  /** WebSocket URLs of the nodes that are running. */
  urls = (): string[] => this.nodes.filter((n) => n.alive()).map((n) => n.url);

  /** Replaces node i (after it died) with a new process. */
  async restart(i: number): Promise<void> {
    this.nodes[i] = await this.spawn(i);
  }

  /** Registers `count` recipient devices, each on node (i mod NODE_COUNT), each with its own delivery token. */
  async recipients(count: number): Promise<Target[]> {
    const out: Target[] = [];
    for (let i = 0; i < count; i++) {
      const token = randomToken();
      const s = await registered(this.nodes[i % this.nodes.length]!.url);
      await setTokens(s.client, [token]);
      await s.client.next((f) => f.type === 'queue_empty');
      await s.client.close();
      out.push({ device: s.device, token });
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopNode(n)));
  }
}
