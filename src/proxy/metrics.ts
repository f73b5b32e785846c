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

/** Counters of one process. */
export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();

  /** Counts one finished request. */
  record(controller: string, ingress: string, service: string, status: number, seconds: number): void {
    const key = `${controller}\u0000${ingress}\u0000${service}\u0000${status}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = `${controller}\u0000${ingress}`;
    let h = this.latency.get(hkey);
    if (!h) {
      h = { buckets: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(hkey, h);
    }
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= (LATENCY_BUCKETS[i] ?? 0)) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
    h.sum += seconds;
    h.count++;
  }

  /** A copy of the counters. */
  snapshot(): MetricsSnapshot {
    return { requests: [...this.requests], latency: [...this.latency].map(([k, h]) => [k, { buckets: [...h.buckets], sum: h.sum, count: h.count }] as const) };
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
