/**
 * The simulator as a Dataplane: each connection traced, with every outcome its random draws allow,
 * so a real plane's answer can be checked against the list.
 */
import type { Connection, Dataplane, Probed, Trace } from '../model/dataplane.js';
import type { NetworkState } from '../model/types.js';
import { createTracer } from './trace/index.js';

/** What a trace looks like as a plane's observation. */
export function probedOf(trace: Trace, outcomes: readonly Trace[]): Probed {
  const d = trace.destination;
  const answeredBy = d?.pod ? `${d.pod.namespace}/${d.pod.name}` : d?.node ? `node/${d.node}` : undefined;
  const failure = trace.verdict === 'no-route' ? (trace.hops.some((h) => h.component === 'dns' && h.verdict === 'no-route') ? 'nxdomain' : 'unreachable') : trace.verdict === 'denied' && !trace.response ? 'timeout' : undefined;
  return {
    plane: 'sim',
    verdict: trace.verdict,
    ...(answeredBy && trace.verdict === 'delivered' ? { answeredBy } : {}),
    ...(d?.client ? { seenClient: d.client } : {}),
    ...(trace.response ? { status: trace.response.status, ...(trace.response.location ? { location: trace.response.location } : {}) } : {}),
    ...(trace.certificate ? { certificateNames: trace.certificate.dnsNames, ...(trace.certificate.subject ? { certificateSubject: trace.certificate.subject } : {}) } : {}),
    ...(failure ? { failure } : {}),
    hops: trace.hops,
    trace,
    outcomes,
  };
}

/** The simulator over one state. */
export function simPlane(state: NetworkState): Dataplane {
  const tracer = createTracer(state);
  return {
    name: 'sim',
    probe: (connections) => Promise.resolve(connections.map((c: Connection) => probedOf(tracer.trace(c), tracer.traceAll(c)))),
  };
}
