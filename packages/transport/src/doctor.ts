/**
 * `pigeon doctor`'s engine: opens each known route once, step by step (DNS, TCP, proxy, TLS,
 * WebSocket or tunnel, then the relay's challenge frame, which proves the relay itself answered
 * through the route), and reports what worked and where the rest failed. Routes are probed one
 * after another, never in parallel, so a doctor run is not a burst a censor would notice.
 */
import { decodeRelayFrame } from '@pigeon/api';
import type { RouteContext, Route } from './routes.js';
import { openRoute, routeLabel } from './routes.js';
import type { StepName, StepReport } from './stream.js';

export const DEFAULT_PROBE_TIMEOUT_MS = 15_000;

export interface RouteDiagnosis {
  readonly route: string;
  readonly kind: Route['kind'];
  readonly ok: boolean;
  readonly steps: readonly StepReport[];
  /** The first step that failed (or 'relay' when everything below worked but the relay never spoke). */
  readonly failedStep?: StepName;
  readonly reason?: string;
  readonly ms: number;
}

export function probeRoute(route: Route, ctx: RouteContext, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<RouteDiagnosis> {
  const steps: StepReport[] = [];
  const started = Date.now();
  return new Promise<RouteDiagnosis>((resolve) => {
    let done = false;
    const finish = (ok: boolean, reason?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close(1000, 'doctor');
      const failed = steps.find((s) => !s.ok);
      resolve({
        route: routeLabel(route),
        kind: route.kind,
        ok,
        steps,
        ...(ok ? {} : { failedStep: failed?.step ?? 'relay', reason: failed?.detail ?? reason ?? 'no answer' }),
        ms: Date.now() - started,
      });
    };
    const timer = setTimeout(() => finish(false, 'TIMEOUT'), timeoutMs);
    const relayStarted = { at: 0 };
    const socket = openRoute(
      route,
      {
        onOpen: () => {
          relayStarted.at = Date.now();
        },
        onMessage: (data) => {
          let type = 'undecodable';
          try {
            type = decodeRelayFrame(data).type;
          } catch {
            // reported below
          }
          const ok = type === 'challenge';
          steps.push({ step: 'relay', ok, ms: Date.now() - (relayStarted.at || started), detail: ok ? 'challenge received' : `unexpected ${type} frame` });
          finish(ok);
        },
        onClose: (code, reason) => finish(false, `closed ${code} ${reason}`.trim()),
      },
      { ...ctx, onStep: (r) => steps.push(r) },
    );
  });
}

/** Probes routes one at a time. */
export async function diagnoseRoutes(routes: readonly Route[], ctx: RouteContext, timeoutMs = DEFAULT_PROBE_TIMEOUT_MS): Promise<RouteDiagnosis[]> {
  const out: RouteDiagnosis[] = [];
  for (const r of routes) out.push(await probeRoute(r, ctx, timeoutMs));
  return out;
}

/** A plain-text table: one row per route, a column per step (ok / the failure code / -). */
export function formatDiagnosisTable(rows: readonly RouteDiagnosis[]): string {
  const columns: StepName[] = ['dns', 'tcp', 'proxy', 'tls', 'websocket', 'tunnel', 'relay'];
  const used = columns.filter((c) => rows.some((r) => r.steps.some((s) => s.step === c)) || c === 'relay');
  const cell = (r: RouteDiagnosis, c: StepName): string => {
    const s = r.steps.filter((x) => x.step === c).at(-1);
    if (s === undefined) return r.failedStep === c ? (r.reason ?? 'FAILED') : '-';
    return s.ok ? `ok ${s.ms}ms` : s.detail;
  };
  const header = ['route', ...used, 'result'];
  const body = rows.map((r) => [r.route, ...used.map((c) => cell(r, c)), r.ok ? 'WORKS' : `fails at ${r.failedStep}`]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
