/**
 * Services on the Linux plane against `kwire trace`: ClusterIP, NodePort from the external
 * namespace, hairpin, ClientIP affinity, externalTrafficPolicy Local (client IP kept), a Service
 * without endpoints (rejected), cluster DNS at the kube-dns ClusterIP, and the cleanup `down` does
 * of a run that never stopped (as after a crash).
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnswer, encodeQuery, linuxDown, linuxUp, RR, type LinuxPlane } from '../../src/linux/index.js';
import type { NetworkState, ServiceState } from '../../src/model/types.js';
import { EXTERNAL_CLIENT_IP } from '../../src/model/dataplane.js';
import { deployment, docs, service, stateOf, textTracer } from '../support/state.js';
import { connectionOf } from '../../src/cli/trace/index.js';
import { compileNetwork } from '../../src/controllers/index.js';
import { disagreement } from '../../src/model/agreement.js';
import { plainState } from '../../src/model/state.js';
import { createTracer } from '../../src/sim/trace/index.js';
import { agentDir, privilegedSkipReason } from './support.js';

const skip = privilegedSkipReason();
if (skip) console.warn(`[linux plane] services skipped: ${skip}`);

/** The manifests; `soloSelector` lets a test re-point the `solo` Service. */
function manifests(soloSelector = 'solo'): string {
  return docs(
  '{"apiVersion":"kwire.dev/v1alpha1","kind":"Cluster","metadata":{"name":"svc"}}',
  deployment('web', { replicas: 2 }),
  deployment('solo'),
  deployment('client', { ports: [{ name: 'p', containerPort: 9000 }] }),
  service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
  service('web-np', { type: 'NodePort', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }),
  service('web-local', { type: 'NodePort', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] }),
  service('web-aff', { selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080 }] }),
  service('web-itp', { type: 'NodePort', internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, nodePort: 30082 }] }),
  service('solo', { selector: { app: soloSelector }, ports: [{ port: 80, targetPort: 8080 }] }),
  service('empty', { selector: { app: 'nothing' }, ports: [{ port: 80, targetPort: 8080 }] }),
  );
}

(skip ? describe.skip : describe)('Services on the Linux plane agree with kwire trace', () => {
  let plane: LinuxPlane;
  let state: NetworkState;
  const svc = (name: string): ServiceState => {
    const found = state.services.find((s) => s.namespace === 'default' && s.name === name);
    if (!found) throw new Error(`no service ${name}`);
    return found;
  };
  const podOf = (app: string): string[] => state.pods.filter((p) => p.labels.app === app).map((p) => `${p.namespace}/${p.name}`);

  beforeAll(async () => {
    state = stateOf(manifests());
    plane = await linuxUp(state, { agentDir: agentDir() });
  });

  afterAll(async () => {
    await linuxDown(state.cluster.name);
  });

  it('ClusterIP: a pod reaches one of the endpoints, as trace predicts', async () => {
    const client = podOf('client')[0] ?? '';
    const [outcome] = await plane.rawProbe([{ from: { pod: client }, to: svc('web').clusterIP, port: 80, protocol: 'TCP' }]);
    expect(outcome?.connected).toBe(true);
    expect(podOf('web')).toContain(outcome?.reply);
    const trace = textTracer(state).trace(`pod/${client}`, 'svc/default/web:80');
    expect(trace.verdict).toBe('delivered');
  });

  it('NodePort: the external client reaches it on every node', async () => {
    const outcomes = await plane.rawProbe(state.nodes.map((n) => ({ from: 'external' as const, to: n.ip, port: 30080, protocol: 'TCP' as const })));
    const tracer = textTracer(state);
    state.nodes.forEach((n, i) => {
      expect(outcomes[i]?.connected).toBe(tracer.trace('external', `${n.ip}:30080`).verdict === 'delivered');
      expect(podOf('web')).toContain(outcomes[i]?.reply);
    });
  });

  it('hairpin: a pod reaches itself through its own Service', async () => {
    const solo = podOf('solo')[0] ?? '';
    const [outcome] = await plane.rawProbe([{ from: { pod: solo }, to: svc('solo').clusterIP, port: 80, protocol: 'TCP' }]);
    expect(outcome).toEqual({ connected: true, reply: solo });
  });

  it('sessionAffinity ClientIP: one client sticks to one endpoint', async () => {
    const client = podOf('client')[0] ?? '';
    const replies = new Set<string | undefined>();
    for (let i = 0; i < 6; i++) {
      const [outcome] = await plane.rawProbe([{ from: { pod: client }, to: svc('web-aff').clusterIP, port: 80, protocol: 'TCP' }]);
      replies.add(outcome?.reply);
    }
    expect(replies.size).toBe(1);
  });

  it('externalTrafficPolicy Local: only nodes with a local endpoint answer, and the client IP is kept', async () => {
    const outcomes = await plane.rawProbe(state.nodes.map((n) => ({ from: 'external' as const, to: n.ip, port: 30081, protocol: 'TCP' as const, send: 'clientip' })));
    const tracer = textTracer(state);
    state.nodes.forEach((n, i) => {
      const hasLocal = state.pods.some((p) => p.labels.app === 'web' && p.node === n.name);
      expect({ node: n.name, connected: outcomes[i]?.connected }).toEqual({ node: n.name, connected: hasLocal });
      expect(tracer.trace('external', `${n.ip}:30081`).verdict === 'delivered').toBe(hasLocal);
      if (hasLocal) expect(outcomes[i]?.reply).toBe(EXTERNAL_CLIENT_IP);
    });
  });

  it('a Service without endpoints rejects the connection', async () => {
    const client = podOf('client')[0] ?? '';
    const [outcome] = await plane.rawProbe([{ from: { pod: client }, to: svc('empty').clusterIP, port: 80, protocol: 'TCP' }]);
    expect(outcome).toEqual({ connected: false, error: 'ECONNREFUSED' });
    expect(textTracer(state).trace(`pod/${client}`, 'svc/default/empty:80').verdict).not.toBe('delivered');
  });

  it('cluster DNS answers at the kube-dns ClusterIP: A for a Service, NXDOMAIN otherwise', async () => {
    const client = podOf('client')[0] ?? '';
    const dns = state.services.find((s) => s.name === 'kube-dns')?.clusterIP ?? '';
    const ask = (name: string) => ({ from: { pod: client }, to: dns, port: 53, protocol: 'UDP' as const, timeoutMs: 1500, send: `b64:${encodeQuery(7, name, RR.A).toString('base64')}` });
    const [found, missing] = await plane.rawProbe([ask('web.default.svc.cluster.local'), ask('nope.default.svc.cluster.local')]);
    const answer = decodeAnswer(Buffer.from((found?.reply ?? '').slice(4), 'base64'));
    expect(answer).toMatchObject({ rcode: 0, a: [svc('web').clusterIP] });
    expect(decodeAnswer(Buffer.from((missing?.reply ?? '').slice(4), 'base64')).rcode).toBe(3);
  });

  it('agrees with trace where the planes used to differ: the API server, ClusterIPs and pod IPs from outside, a dropped DNS query', async () => {
    const client = podOf('client')[0] ?? '';
    const web = state.pods.find((p) => p.labels.app === 'web');
    const asked = [
      connectionOf(`pod/${client}`, 'https://kubernetes.default/version'),
      connectionOf(`pod/${client}`, 'kubernetes.default.svc.cluster.local:443'),
      connectionOf('external', `${svc('web').clusterIP}:80`),
      connectionOf('external', `${web?.ip ?? ''}:8080`),
      connectionOf('external', 'svc/default/web:80'),
    ];
    const seen = await plane.probe(asked, 800);
    const tracer = createTracer(state);
    asked.forEach((c, i) => {
      expect(disagreement(tracer.traceAll(c), seen[i] ?? { plane: 'linux', hops: [] }), JSON.stringify(c)).toBeUndefined();
    });
    expect(seen[0]).toMatchObject({ verdict: 'delivered', answeredBy: 'node/control-plane' });
    expect(seen.slice(2).every((p) => p.failure !== undefined)).toBe(true);
    const denyEgress = compileNetwork({ ...plainState(state), networkPolicies: [{ namespace: 'default', name: 'no-egress', spec: { podSelector: { matchLabels: { app: 'client' } }, policyTypes: ['Egress'] } }] });
    await plane.apply(denyEgress);
    try {
      const dns = connectionOf(`pod/${client}`, 'web:80');
      const [got] = await plane.probe([dns], 800);
      expect(got?.failure).toBe('timeout');
      const [trace] = createTracer(denyEgress).traceAll(dns);
      expect(trace?.hops.find((h) => h.component === 'dns')?.verdict).toBe('deny');
      expect(disagreement(createTracer(denyEgress).traceAll(dns), got ?? { plane: 'linux', hops: [] })).toBeUndefined();
    } finally {
      await plane.apply(state);
    }
  });

  it("agrees with trace on kube-proxy's short-circuit and the CNI's masquerade", async () => {
    const client = podOf('client')[0] ?? '';
    const clientNode = state.pods.find((p) => `${p.namespace}/${p.name}` === client)?.node;
    const asked = [
      // A node's own NodePort goes to every endpoint, whatever the traffic policies say.
      ...state.nodes.map((n) => connectionOf(`node/${n.name}`, `${n.ip}:30082`)),
      // A pod's connection to another node leaves the pod network: masqueraded to its node's address.
      ...state.nodes.map((n) => connectionOf(`pod/${client}`, `${n.ip}:30081`)),
      ...state.nodes.map((n) => connectionOf(`pod/${client}`, `${n.ip}:9999`)),
    ];
    const seen = await plane.probe(asked, 800);
    const tracer = createTracer(state);
    asked.forEach((c, i) => {
      expect(disagreement(tracer.traceAll(c), seen[i] ?? { plane: 'linux', hops: [] }), JSON.stringify(c)).toBeUndefined();
    });
    expect(seen.slice(0, state.nodes.length).every((p) => p.verdict === 'delivered')).toBe(true);
    state.nodes.forEach((n, i) => {
      const got = seen[state.nodes.length + i];
      if (n.name !== clientNode && got?.verdict === 'delivered') expect(got.seenClient).toBe(state.nodes.find((x) => x.name === clientNode)?.ip);
      expect(seen[2 * state.nodes.length + i]?.failure).toBeDefined();
    });
  });

  it('an edit is applied without touching the pods: a Service re-pointed at other pods', async () => {
    const next = stateOf(manifests('web'));
    const report = await plane.apply(next);
    expect(report).toMatchObject({ rebuilt: false, podsAdded: 0, podsRemoved: 0, agentsRestarted: 0 });
    state = next;
    const client = podOf('client')[0] ?? '';
    const [outcome] = await plane.rawProbe([{ from: { pod: client }, to: svc('solo').clusterIP, port: 80, protocol: 'TCP' }]);
    expect(podOf('web')).toContain(outcome?.reply);
  });

  it('down removes every namespace of a run that never stopped', async () => {
    await linuxDown(state.cluster.name);
    const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(plane.names.prefix));
    expect(left).toEqual([]);
  });
});

(skip ? describe.skip : describe)('cni: vxlan (Flannel style overlay)', () => {
  it('pods on different nodes reach each other over VXLAN, and through a ClusterIP', async () => {
    const state = stateOf(
      docs(
        '{"apiVersion":"kwire.dev/v1alpha1","kind":"Cluster","metadata":{"name":"vx"},"spec":{"cni":{"mode":"vxlan"}}}',
        deployment('web', { replicas: 3, ports: [{ name: 'http', containerPort: 8080 }, { name: 'echo', containerPort: 8080, protocol: 'UDP' }] }),
        service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
      ),
    );
    const plane = await linuxUp(state, { agentDir: agentDir() });
    try {
      const pods = state.pods.filter((p) => p.labels.app === 'web');
      const [a, b] = pods;
      if (!a || !b) throw new Error('two web pods expected');
      expect(a.node).not.toBe(b.node);
      const outcomes = await plane.rawProbe([
        { from: { pod: `default/${a.name}` }, to: b.ip, port: 8080, protocol: 'TCP' },
        { from: { pod: `default/${a.name}` }, to: b.ip, port: 8080, protocol: 'UDP' },
        { from: { pod: `default/${b.name}` }, to: state.services.find((s) => s.name === 'web')?.clusterIP ?? '', port: 80, protocol: 'TCP' },
      ]);
      expect(outcomes[0]).toEqual({ connected: true, reply: `default/${b.name}` });
      expect(outcomes[1]).toEqual({ connected: true, reply: `default/${b.name}` });
      expect(pods.map((p) => `default/${p.name}`)).toContain(outcomes[2]?.reply);
    } finally {
      await plane.down();
    }
  });
});
