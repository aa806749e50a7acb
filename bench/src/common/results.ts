/** Writes a benchmark's results as JSON into bench/results/ (gitignored). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/ (this file is compiled to bench/dist/src/common/results.js). */
export const BENCH_DIR = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = join(BENCH_DIR, 'results');

export function machineInfo(): Record<string, unknown> {
  const cpu = cpus();
  return { node: process.version, arch: arch(), cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', memoryBytes: totalmem() };
}

/** Returns the path written. */
export function writeResults(kind: string, data: Record<string, unknown>): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${kind}-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ kind, at: new Date().toISOString(), machine: machineInfo(), ...data }, null, 2) + '\n');
  return file;
}

/**
 * One line about how busy the machine is (1-minute load average against the core count): other
 * work on a 2-core machine moves every number, so each run says how quiet it was.
 */
export function loadLine(when: string): { line: string; load1: number } {
  const load1 = loadavg()[0] ?? 0;
  const cores = cpus().length;
  const warning = load1 > cores ? '  WARNING: machine busy with other work, numbers are unreliable' : '';
  return { line: `   load average ${when}: ${load1.toFixed(2)} on ${cores} cores${warning}`, load1 };
}
