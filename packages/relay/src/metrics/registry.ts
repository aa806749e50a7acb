/**
 * A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and
 * histograms with fixed label names. Small on purpose: the relay needs a dozen series and no
 * dependency for them.
 */
export type Labels = Readonly<Record<string, string>>;

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  render(): Promise<string[]> | string[];
}

/** Label values escaped as the exposition format requires (backslash, quote, newline). */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels | undefined, extra?: string): string {
  const parts = Object.entries(labels ?? {}).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * The map key of a label set. Counters are bumped on every message, so the usual shapes (no
 * labels, one label) build a plain string; a JSON key starts with '[' and a one-label key with
 * the label's name, so the two forms never collide.
 */
function labelKey(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  let only: string | undefined;
  let count = 0;
  for (const name in labels) {
    only = name;
    if (++count > 1) break;
  }
  if (count === 0) return '';
  if (count === 1) return `${only!}\u0000${labels[only!]!}`;
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function num(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return Number.isNaN(n) ? 'NaN' : String(n);
}

export class Counter implements Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, { labels: Labels | undefined; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    const key = labelKey(labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels))?.value ?? 0;
  }

  render(): string[] {
    if (this.values.size === 0) return [`${this.name} 0`];
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`);
  }
}

/** A counter kept by someone else (e.g. the store) and read when scraped, one value per label set. */
export class CollectedCounter implements Metric {
  readonly type = 'counter';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect: () => readonly { readonly labels: Labels; readonly value: number }[],
  ) {}

  render(): string[] {
    const values = this.collect();
    if (values.length === 0) return [`${this.name} 0`];
    return values.map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`);
  }
}

/** A gauge read when scraped (collect) or set by the code that knows the value. */
export class Gauge implements Metric {
  readonly type = 'gauge';
  private readonly values = new Map<string, { labels: Labels | undefined; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: () => number | Promise<number>,
  ) {}

  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), { labels, value });
  }

  async render(): Promise<string[]> {
    if (this.collect) return [`${this.name} ${num(await this.collect())}`];
    return [...this.values.values()].map((e) => `${this.name}${labelText(e.labels)} ${num(e.value)}`);
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram';
  private readonly series = new Map<string, { labels: Labels | undefined; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels?: Labels): void {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  count(labels?: Labels): number {
    return this.series.get(labelKey(labels))?.count ?? 0;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText(s.labels, `le="${num(b)}"`)} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText(s.labels, 'le="+Inf"')} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    this.metrics.push(metric);
    return metric;
  }

  /** The whole registry in the text exposition format. */
  async render(): Promise<string> {
    const out: string[] = [];
    for (const m of this.metrics) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...(await m.render()));
    }
    return out.join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
