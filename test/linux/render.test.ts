/**
 * What the Linux plane renders, checked without privileges: kube-proxy's nft table, the
 * NetworkPolicy table, names within IFNAMSIZ, the topology plan and the DNS codec.
 */
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../src/controllers/networkpolicy/index.js';
import { answerQuery, buildDnsRecords, decodeAnswer, encodeQuery, netpolUpdateScript, planTopology, renderKubeProxy, renderNetpol, resolvConf, RR } from '../../src/linux/index.js';
import { clusterNames, podVethName } from '../../src/linux/names.js';
import { e2eState, policy } from '../support/netpol-state.js';
import { deployment, docs, service, stateOf } from '../support/state.js';

const state = stateOf(
  docs(
    deployment('web', { replicas: 2 }),
    service('web', { type: 'NodePort', selector: { app: 'web' }, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }),
    service('empty', { selector: { app: 'none' }, ports: [{ port: 80 }] }),
  ),
);
const web = state.services.find((s) => s.name === 'web');
const empty = state.services.find((s) => s.name === 'empty');

describe('kube-proxy nftables table', () => {
  const node = state.nodes[0];
  if (!node || !web || !empty) throw new Error('fixture');
  const table = renderKubeProxy(state, node);

  it.each([
    ['dispatches the ClusterIP through the service-ips verdict map', `${web.clusterIP} . tcp . 80 : goto service-`],
    ['dispatches the NodePort to the external chain', 'tcp . 30080 : goto external-'],
    ['rejects a Service without endpoints', `${empty.clusterIP} . tcp . 80 : goto reject-chain`],
    ['draws among the endpoints with numgen', 'numgen random mod 2 vmap'],
    ['keeps ClientIP affinity in timeout sets', 'timeout 10800s'],
    ['masquerades marked traffic', 'masquerade fully-random'],
    ['replaces the table atomically', 'table ip kube-proxy\ndelete table ip kube-proxy\n'],
  ])('%s', (_what, text) => {
    expect(table).toContain(text);
  });

  it('DNATs to every ready endpoint of the Service', () => {
    for (const pod of state.pods.filter((p) => p.labels.app === 'web')) expect(table).toContain(`dnat to ${pod.ip}:8080`);
  });
});

describe('NetworkPolicy nftables table', () => {
  const pods = ['x/a', 'x/b', 'y/a'];
  const deny = policy('x', 'allow-from-b', { podSelector: { matchLabels: { pod: 'a' } }, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'b' } } }], ports: [{ port: 80, endPort: 81 }] }] });
  const s1 = e2eState(pods, [deny]);
  const node = s1.nodes[0];
  if (!node) throw new Error('fixture');
  const t1 = renderNetpol(s1, compilePolicies(s1), node);

  it('accepts established traffic first and guards each rule with the pods its policy selects', () => {
    expect(t1?.structure).toContain('ct state established,related accept');
    expect(t1?.structure).toContain('ip daddr @pol-x/allow-from-b-pods ip saddr @pol-x/allow-from-b-in0-0 meta l4proto tcp th dport { 80-81 } return');
    expect(t1?.sets.get('pol-x/allow-from-b-in0-0')?.elements).toEqual(['10.244.1.11']);
    expect(t1?.sets.get('ingress-isolated')?.elements).toEqual(['10.244.1.10']);
  });

  it('a relabel changes set elements only', () => {
    const s2 = e2eState(pods, [deny], {}, { 'y/a': { pod: 'b' } });
    const t2 = renderNetpol(s2, compilePolicies(s2), node);
    expect(t2?.structure).toBe(t1?.structure);
    expect(t2?.sets.get('pol-x/allow-from-b-in0-0')?.elements).toEqual(['10.244.1.11']);
    expect(netpolUpdateScript(t1, t1)).toBe('');
  });

  it('installs nothing when the CNI ignores policies', () => {
    const ignored = { ...s1, cluster: { ...s1.cluster, cni: { ...s1.cluster.cni, networkPolicy: 'ignored' as const } } };
    expect(renderNetpol(ignored, compilePolicies(ignored), node)).toBeUndefined();
  });
});

describe('topology', () => {
  it('names host veths within IFNAMSIZ and wires routed pods with a /32 and proxy-ARP gateway', () => {
    expect(podVethName('a-very-long-namespace-name', 'a-very-long-pod-name-abcdef').length).toBeLessThanOrEqual(15);
    const plan = planTopology(state);
    const pod = plan.pods[0];
    expect(pod?.netns.startsWith(`${clusterNames(state.cluster.name).prefix}pod-`)).toBe(true);
    const node = plan.nodes.find((n) => n.node.name === pod?.pod.node);
    expect(node?.lines).toContain(`route replace ${pod?.pod.ip ?? ''}/32 dev ${pod?.veth ?? ''} scope link`);
  });
});

describe('cluster DNS', () => {
  const records = buildDnsRecords(state);
  const ask = (name: string, type: number) => decodeAnswer(answerQuery(records, encodeQuery(1, name, type)) ?? Buffer.alloc(0));

  it.each([
    ['web.default.svc.cluster.local', RR.A, { rcode: 0, a: [web?.clusterIP] }],
    ['nothing.default.svc.cluster.local', RR.A, { rcode: 3, a: [] }],
    ['web.default.svc.cluster.local', RR.AAAA, { rcode: 0, a: [] }],
  ])('%s type %i', (name, type, expected) => {
    expect(ask(name, type)).toMatchObject(expected);
  });

  it('writes the kubelet search path', () => {
    expect(resolvConf(state, 'default', '10.96.0.10')).toBe('search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n');
  });
});
