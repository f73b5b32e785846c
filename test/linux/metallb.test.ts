/**
 * MetalLB in the Linux plane against `kwire trace`: the layer-2 holder answers ARP for its
 * LoadBalancer addresses (198.51.100.x beside the segment, and 172.18.255.x on it) and a new holder
 * sends gratuitous ARP when its node is stopped; the nodes' BIRD speakers peer with the outside
 * world's FRR router, which installs ECMP routes with the advertisement's community and withdraws a
 * stopped node. Root only; needs bird2, frr and iputils-arping.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linuxDown, linuxUp, type LinuxPlane } from '../../src/linux/index.js';
import { disagreement } from '../../src/model/agreement.js';
import type { Connection } from '../../src/model/dataplane.js';
import type { NetworkState } from '../../src/model/types.js';
import { createTracer } from '../../src/sim/trace/index.js';
import { deployment, docs, service, stateOf } from '../support/state.js';
import { agentDir, privilegedSkipReason } from './support.js';

const CLUSTER = 'mlb';

function missingPeers(): string | undefined {
  for (const tool of ['bird', 'birdc', '/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', 'vtysh', 'arping']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed (Debian: bird2, frr, iputils-arping)`;
    }
  }
  return undefined;
}

const skip = privilegedSkipReason() ?? missingPeers();
if (skip) console.warn(`[linux plane] MetalLB skipped: ${skip}`);

const pool = (name: string, addresses: string[], extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace: 'metallb-system' }, spec: { addresses, autoAssign: false, ...extra } });
const lbService = (name: string, poolName: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, annotations: { 'metallb.io/address-pool': poolName } }, spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }], ...extra } });

const MANIFESTS = docs(
  `{"apiVersion":"kwire.dev/v1alpha1","kind":"Cluster","metadata":{"name":"${CLUSTER}"}}`,
  deployment('web', { replicas: 3 }),
  pool('l2', ['198.51.100.10-198.51.100.20']),
  pool('segment', ['172.18.255.200-172.18.255.210']),
  pool('bgp', ['198.51.100.128/26']),
  JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: 'metallb-system' }, spec: { ipAddressPools: ['l2', 'segment'] } }),
  JSON.stringify({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: 'metallb-system' }, spec: { myASN: 64513, peerASN: 64512, peerAddress: '172.18.255.254', holdTime: '9s' } }),
  JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'bgp', namespace: 'metallb-system' }, spec: { ipAddressPools: ['bgp'], communities: ['64512:100'] } }),
  lbService('web-l2', 'l2'),
  lbService('web-segment', 'segment'),
  lbService('web-bgp', 'bgp'),
  service('web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] }),
);

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the JSON's shape
function json<T>(argv: string[]): T {
  return JSON.parse(execFileSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8' })) as T;
}

(skip ? describe.skip : describe)('MetalLB in the Linux plane agrees with kwire trace', () => {
  let plane: LinuxPlane;
  let state: NetworkState;
  const ipOf = (s: NetworkState, name: string): string => s.services.find((x) => x.name === name)?.loadBalancerIngress[0]?.ip ?? '';
  const holder = (s: NetworkState, name: string): string => s.metallb?.announcements.byService.get(`default/${name}`)?.[0]?.l2?.winner ?? '';
  const macOf = (node: string): string => json<{ address: string }[]>(['ip', '-n', plane.names.node(node), '-j', 'link', 'show', 'eth0'])[0]?.address ?? '';
  const neighbour = (ip: string): string | undefined => json<{ lladdr?: string }[]>(['ip', '-n', plane.names.external, '-j', 'neigh', 'show', ip])[0]?.lladdr;
  const vtysh = (cmd: string): string => execFileSync('ip', ['netns', 'exec', plane.names.external, 'vtysh', '--vty_socket', join(plane.dir, 'frr', 'sock'), '-c', cmd], { encoding: 'utf8' });
  const external = (s: NetworkState, name: string): Connection => ({ from: { kind: 'external' }, to: { kind: 'ip', ip: ipOf(s, name), port: 80 } });

  async function agree(s: NetworkState, connections: readonly Connection[]): Promise<void> {
    const tracer = createTracer(s);
    const seen = await plane.probe(connections, 1500);
    connections.forEach((c, i) => {
      const got = seen[i];
      expect(got?.verdict, JSON.stringify(got)).toBe('delivered');
      expect(disagreement(tracer.traceAll(c), got ?? { plane: 'linux', hops: [] })).toBeUndefined();
    });
  }

  beforeAll(async () => {
    state = stateOf(MANIFESTS);
    plane = await linuxUp(state, { agentDir: agentDir() });
  });

  afterAll(async () => {
    await linuxDown(CLUSTER);
  });

  it('reaches every LoadBalancer address from outside: layer 2 beside and on the segment, and BGP', async () => {
    expect(ipOf(state, 'web-l2')).toMatch(/^198\.51\.100\.1\d$/);
    expect(ipOf(state, 'web-segment')).toMatch(/^172\.18\.255\.2\d\d$/);
    expect(ipOf(state, 'web-bgp')).toMatch(/^198\.51\.100\.1[2-9]\d$/);
    await agree(state, [external(state, 'web-l2'), external(state, 'web-segment'), external(state, 'web-bgp')]);
  });

  it('the elected node answers ARP: the outside world sends to its MAC', () => {
    for (const name of ['web-l2', 'web-segment']) expect(neighbour(ipOf(state, name)), name).toBe(macOf(holder(state, name)));
  });

  it('the router learned the BGP route from every node, with the community, and installed ECMP', () => {
    const ip = ipOf(state, 'web-bgp');
    const route = json<{ paths: { community?: { string: string }; nexthops: { ip: string }[] }[] }>(['ip', 'netns', 'exec', plane.names.external, 'vtysh', '--vty_socket', join(plane.dir, 'frr', 'sock'), '-c', `show ip bgp ${ip}/32 json`]);
    expect(route.paths.map((p) => p.nexthops[0]?.ip).sort()).toEqual(state.nodes.map((n) => n.ip).sort());
    expect(route.paths.every((p) => p.community?.string === '64512:100')).toBe(true);
    const fib = json<{ nexthops?: { gateway: string }[] }[]>(['ip', '-n', plane.names.external, '-j', 'route', 'show', `${ip}/32`]);
    expect(fib[0]?.nexthops?.map((n) => n.gateway).sort()).toEqual(state.nodes.map((n) => n.ip).sort());
    expect(vtysh('show bgp summary')).toContain('64513');
  });

  it('a stopped node fails over: a new holder sends gratuitous ARP, the router withdraws it, trace agrees', async () => {
    const old = holder(state, 'web-l2');
    const stopped = stateOf(MANIFESTS, { stoppedNodes: [old] });
    const next = holder(stopped, 'web-l2');
    expect(next).not.toBe(old);
    const report = await plane.apply(stopped);
    expect(report.nodesStopped).toEqual([old]);
    const deadline = Date.now() + 3000;
    while (neighbour(ipOf(stopped, 'web-l2')) !== macOf(next) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(neighbour(ipOf(stopped, 'web-l2'))).toBe(macOf(next));
    expect(await plane.bgpConverged(5000)).toBe(true);
    const fib = json<{ nexthops?: { gateway: string }[]; gateway?: string }[]>(['ip', '-n', plane.names.external, '-j', 'route', 'show', `${ipOf(stopped, 'web-bgp')}/32`]);
    const hops = fib[0]?.nexthops?.map((n) => n.gateway) ?? [fib[0]?.gateway];
    expect(hops).not.toContain(state.nodes.find((n) => n.name === old)?.ip);
    await agree(stopped, [external(stopped, 'web-l2'), external(stopped, 'web-bgp')]);
    const restarted = await plane.apply(state);
    expect(restarted.nodesStarted).toEqual([old]);
    expect(await plane.bgpConverged(8000)).toBe(true);
    await agree(state, [external(state, 'web-l2'), external(state, 'web-bgp')]);
  });
});
