/**
 * The driver processes of one system's turn: forked with IPC (through bash so the open-files
 * limit is raised to the hard limit in each child), asked in parallel, stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromDriver, ToDriver } from './ipc.js';
import { cpuMs } from './proc-stats.js';

const DRIVER = fileURLToPath(new URL('./driver-child.js', import.meta.url));
/** Upper bound on any one request to a driver (registration of ~17k devices included). */
const REQUEST_TIMEOUT_MS = 15 * 60_000;

export class DriverPool {
  private readonly children: ChildProcess[] = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const child = spawn('bash', ['-c', `ulimit -n "$(ulimit -Hn)"; exec "${process.execPath}" "${DRIVER}"`], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, PIGEON_BENCH_DRIVER: String(i) },
      });
      child.on('error', () => {});
      this.children.push(child);
    }
  }

  get size(): number {
    return this.children.length;
  }

  pids(): number[] {
    return this.children.map((c) => c.pid!).filter((p) => p !== undefined);
  }

  cpuMs(): number {
    return this.pids().reduce((s, p) => s + cpuMs(p), 0);
  }

  ask<T extends FromDriver['type']>(index: number, message: ToDriver, expect: T): Promise<Extract<FromDriver, { type: T }>> {
    const child = this.children[index]!;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`driver ${index}: no ${expect} reply in ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      const onMessage = (m: FromDriver): void => {
        if (m.type === expect) done(undefined, m as Extract<FromDriver, { type: T }>);
        else if (m.type === 'failed') done(new Error(`driver ${index}: ${m.reason}`));
      };
      const onExit = (code: number | null): void => done(new Error(`driver ${index} exited (${code})`));
      const done = (error: Error | undefined, value?: Extract<FromDriver, { type: T }>): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(value!);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  }

  /** The same kind of request to drivers 0..n-1, built per driver. */
  all<T extends FromDriver['type']>(n: number, build: (index: number) => ToDriver, expect: T): Promise<Extract<FromDriver, { type: T }>[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => this.ask(i, build(i), expect)));
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (child.connected) child.send({ type: 'stop' } satisfies ToDriver);
            else child.kill('SIGTERM');
          }),
      ),
    );
  }
}
