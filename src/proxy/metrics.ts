/**
 * Prometheus metrics of the proxy: requests by controller, ingress, service and status, and a
 * latency histogram by controller and ingress. Snapshots are plain data so workers can send
 * theirs to the process that serves `/metrics`.
 */

/** Upper bounds of the latency histogram, in seconds (ingress-nginx's buckets). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** A serializable copy of the counters. */
export interface MetricsSnapshot {
  readonly requests: readonly (readonly [string, number])[];
  readonly latency: readonly (readonly [string, { readonly buckets: readonly number[]; readonly sum: number; readonly count: number }])[];
}

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

/** The counters of one (controller, ingress, service): requests by status and the shared latency histogram. */
interface Series {
  readonly statuses: Map<number, number>;
  /** Per-bucket counts (not cumulative), one more for +Inf. */
  readonly histogram: { readonly buckets: number[]; sum: number; count: number };
}

/** Counters of one process, resolved per (controller, ingress, service) once, then counted in place. */
export class Metrics {
  private readonly series = new Map<string, Map<string, Map<string, Series>>>();
  private readonly histograms = new Map<string, Map<string, Series['histogram']>>();

  private resolve(controller: string, ingress: string, service: string): Series {
    let byIngress = this.series.get(controller);
    if (!byIngress) {
      byIngress = new Map();
      this.series.set(controller, byIngress);
    }
    let byService = byIngress.get(ingress);
    if (!byService) {
      byService = new Map();
      byIngress.set(ingress, byService);
    }
    let s = byService.get(service);
    if (!s) {
      let hs = this.histograms.get(controller);
      if (!hs) {
        hs = new Map();
        this.histograms.set(controller, hs);
      }
      let histogram = hs.get(ingress);
      if (!histogram) {
        histogram = { buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
        hs.set(ingress, histogram);
      }
      s = { statuses: new Map(), histogram };
      byService.set(service, s);
    }
    return s;
  }

  /** Counts one finished request. */
  record(controller: string, ingress: string, service: string, status: number, seconds: number): void {
    const s = this.resolve(controller, ingress, service);
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1);
    const h = s.histogram;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] ?? 0)) i++;
    h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    h.sum += seconds;
    h.count++;
  }

  /** A copy of the counters (histogram buckets cumulative, as Prometheus reports them). */
  snapshot(): MetricsSnapshot {
    const requests: [string, number][] = [];
    for (const [controller, byIngress] of this.series)
      for (const [ingress, byService] of byIngress)
        for (const [service, s] of byService) for (const [status, n] of s.statuses) requests.push([`${controller}\u0000${ingress}\u0000${service}\u0000${status}`, n]);
    const latency: [string, { buckets: number[]; sum: number; count: number }][] = [];
    for (const [controller, hs] of this.histograms)
      for (const [ingress, h] of hs) {
        let running = 0;
        const buckets = LATENCY_BUCKETS.map((_, i) => (running += h.buckets[i] ?? 0));
        latency.push([`${controller}\u0000${ingress}`, { buckets, sum: h.sum, count: h.count }]);
      }
    return { requests, latency };
  }
}

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Renders merged snapshots in the Prometheus text format. */
export function renderMetrics(snapshots: readonly MetricsSnapshot[]): string {
  const requests = new Map<string, number>();
  const latency = new Map<string, Histogram>();
  for (const s of snapshots) {
    for (const [k, n] of s.requests) requests.set(k, (requests.get(k) ?? 0) + n);
    for (const [k, h] of s.latency) {
      const into = latency.get(k) ?? { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      h.buckets.forEach((b, i) => (into.buckets[i] = (into.buckets[i] ?? 0) + b));
      into.sum += h.sum;
      into.count += h.count;
      latency.set(k, into);
    }
  }
  const lines = ['# HELP kwire_ingress_requests_total Requests served by the ingress proxy.', '# TYPE kwire_ingress_requests_total counter'];
  for (const [k, n] of [...requests].sort()) {
    const [controller = '', ingress = '', service = '', status = ''] = k.split('\u0000');
    lines.push(`kwire_ingress_requests_total{controller="${label(controller)}",ingress="${label(ingress)}",service="${label(service)}",status="${status}"} ${n}`);
  }
  lines.push('# HELP kwire_ingress_request_duration_seconds Time from request to response end.', '# TYPE kwire_ingress_request_duration_seconds histogram');
  for (const [k, h] of [...latency].sort()) {
    const [controller = '', ingress = ''] = k.split('\u0000');
    const l = `controller="${label(controller)}",ingress="${label(ingress)}"`;
    LATENCY_BUCKETS.forEach((le, i) => lines.push(`kwire_ingress_request_duration_seconds_bucket{${l},le="${le}"} ${h.buckets[i] ?? 0}`));
    lines.push(`kwire_ingress_request_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`);
    lines.push(`kwire_ingress_request_duration_seconds_sum{${l}} ${h.sum}`);
    lines.push(`kwire_ingress_request_duration_seconds_count{${l}} ${h.count}`);
  }
  return `${lines.join('\n')}\n`;
}
