import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { KubeObject, StringMap } from '../../api/types.js';
import type { EndpointSliceState, NamespaceState, NodeState } from '../../model/types.js';
import {
  type Allocation,
  type LoadBalancerService,
  type MetalLBConfig,
  type Pending,
  allocateLoadBalancerIPs,
  announce,
  excludeFromLoadBalancersLabel,
  parseMetalLB,
  poolUsage,
} from './index.js';

// ---- builders -------------------------------------------------------------------------------

function object(
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  meta: { apiVersion?: string; namespace?: string; labels?: StringMap } = {},
): KubeObject {
  return {
    apiVersion:
      meta.apiVersion ?? (kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1'),
    kind,
    metadata: {
      name,
      namespace: meta.namespace ?? 'metallb-system',
      labels: meta.labels ?? {},
      annotations: {},
    },
    spec,
  };
}

const pool = (
  name: string,
  addresses: string[],
  extra: Record<string, unknown> = {},
  labels: StringMap = {},
) => object('IPAddressPool', name, { addresses, ...extra }, { labels });
const l2 = (name: string, spec: Record<string, unknown> = {}) =>
  object('L2Advertisement', name, spec);
const bgpAdv = (name: string, spec: Record<string, unknown> = {}) =>
  object('BGPAdvertisement', name, spec);
const peer = (name: string, spec: Record<string, unknown>, apiVersion?: string) =>
  object('BGPPeer', name, spec, apiVersion === undefined ? {} : { apiVersion });

interface ServiceOptions {
  namespace?: string;
  ports?: (number | [number, 'TCP' | 'UDP'])[];
  annotations?: StringMap;
  labels?: StringMap;
  selector?: StringMap;
  local?: boolean;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  clusterIP?: string;
  ipFamilies?: string[];
  type?: LoadBalancerService['type'];
}

function service(name: string, o: ServiceOptions = {}): LoadBalancerService {
  return {
    namespace: o.namespace ?? 'default',
    name,
    type: o.type ?? 'LoadBalancer',
    labels: o.labels ?? {},
    annotations: o.annotations ?? {},
    selector: o.selector ?? { app: name },
    clusterIP: o.clusterIP ?? '10.96.0.10',
    headless: false,
    externalIPs: [],
    ports: (o.ports ?? [80]).map((p) => {
      const [port, protocol] = typeof p === 'number' ? [p, 'TCP' as const] : p;
      return { name: `p${port}`, protocol, port, targetPort: port };
    }),
    externalTrafficPolicy: o.local ? 'Local' : 'Cluster',
    internalTrafficPolicy: 'Cluster',
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    publishNotReadyAddresses: false,
    loadBalancerSourceRanges: [],
    loadBalancerIngress: [],
    addon: false,
    ...(o.loadBalancerClass === undefined ? {} : { loadBalancerClass: o.loadBalancerClass }),
    ...(o.loadBalancerIP === undefined ? {} : { loadBalancerIP: o.loadBalancerIP }),
    ...(o.ipFamilies === undefined ? {} : { ipFamilies: o.ipFamilies }),
  };
}

const namespace = (name: string, labels: StringMap = {}): NamespaceState => ({
  name,
  labels: { 'kubernetes.io/metadata.name': name, ...labels },
  implicit: false,
});

const node = (name: string, ip: string, labels: StringMap = {}): NodeState => ({
  name,
  labels: { 'kubernetes.io/hostname': name, ...labels },
  ip,
  podCIDR: '10.244.0.0/24',
  controlPlane: false,
  ready: true,
});

/** An EndpointSlice of `ns/svc` with one endpoint per `[node, ready]`. */
function slice(key: string, endpoints: [string, boolean][]): EndpointSliceState {
  const [ns = '', svc = ''] = key.split('/');
  return {
    namespace: ns,
    name: `${svc}-abc`,
    service: svc,
    addressType: 'IPv4',
    ports: [{ name: '', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map(([nodeName, ready], i) => ({
      addresses: [`10.244.${i}.10`],
      conditions: { ready, serving: ready, terminating: false },
      nodeName,
    })),
    managedBy: 'endpointslice-controller.k8s.io',
  };
}

function allocate(
  objects: KubeObject[],
  services: LoadBalancerService[],
  extra: { namespaces?: NamespaceState[]; lbClass?: string } = {},
) {
  const config = parseMetalLB(objects);
  const result = allocateLoadBalancerIPs({
    services,
    namespaces: extra.namespaces ?? [namespace('default')],
    config,
    ...(extra.lbClass === undefined ? {} : { lbClass: extra.lbClass }),
  });
  return { config, result };
}

function ipsOf(result: Map<string, Allocation | Pending>, key: string): string {
  const r = result.get(key);
  if (!r) return 'absent';
  return r.kind === 'allocated' ? `${r.ips.join(',')}@${r.pool}` : `pending ${r.code}`;
}

function pendingOf(result: Map<string, Allocation | Pending>, key: string): Pending {
  const r = result.get(key);
  if (r?.kind !== 'pending') throw new Error(`${key} is not pending: ${JSON.stringify(r)}`);
  return r;
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const expectedWinner = (nodes: string[], ip: string): string =>
  nodes
    .map((n) => [n, createHash('sha256').update(`${n}#${ip}`).digest()] as const)
    .sort((a, b) => Buffer.compare(a[1], b[1]))[0]![0];

// ---- configuration ----------------------------------------------------------------------------

describe('parseMetalLB', () => {
  it.each([
    { addresses: ['10.0.0.0/30'], avoid: false, total: 4 },
    { addresses: ['10.0.0.10-10.0.0.20'], avoid: false, total: 11 },
    { addresses: ['10.0.0.10 - 10.0.0.20'], avoid: false, total: 11 },
    { addresses: ['fd00::/126'], avoid: false, total: 4 },
    { addresses: ['fd00::1-fd00::3', '10.1.0.0/31'], avoid: false, total: 5 },
    { addresses: ['10.0.0.0/23'], avoid: true, total: 508 },
    { addresses: ['10.0.0.250-10.0.1.5'], avoid: true, total: 10 },
    { addresses: ['fd00::/126'], avoid: true, total: 4 },
  ])(
    'counts $addresses (avoidBuggyIPs $avoid) as $total addresses',
    ({ addresses, avoid, total }) => {
      const config = parseMetalLB([pool('p', addresses, { avoidBuggyIPs: avoid })]);
      expect(config.problems).toEqual([]);
      expect(poolUsage(config, new Map())).toEqual([
        {
          name: 'p',
          autoAssign: true,
          avoidBuggyIPs: avoid,
          addresses,
          total,
          used: 0,
          available: total,
        },
      ]);
    },
  );

  it.each([
    { address: '10.0.0.1', code: 'KW-LB001', message: /Did you mean "10.0.0.1\/32"/ },
    { address: '10.0.0.0/33', code: 'KW-LB001', message: /prefix length must be 0-32/ },
    { address: '10.0.0.9-10.0.0.1', code: 'KW-LB001', message: /first address is above the last/ },
    { address: '10.0.0.1-fd00::1', code: 'KW-LB001', message: /mixes IPv4 and IPv6/ },
    { address: '300.0.0.0/24', code: 'KW-LB001', message: /not an IP address/ },
  ])('rejects $address with $code', ({ address, code, message }) => {
    const config = parseMetalLB([pool('p', ['10.9.0.0/24', address])]);
    expect(config.problems).toHaveLength(1);
    expect(config.problems[0]).toMatchObject({
      code,
      path: 'spec.addresses[1]',
      severity: 'error',
    });
    expect(config.problems[0]?.message).toMatch(message);
    expect(config.pools[0]?.ranges.map((r) => r.text)).toEqual(['10.9.0.0/24']);
  });

  it('reports overlapping pools and keeps the first owner', () => {
    const config = parseMetalLB([pool('a', ['10.0.0.0/24']), pool('b', ['10.0.0.128-10.0.1.10'])]);
    expect(config.problems.map((p) => [p.code, p.object?.name])).toEqual([
      ['KW-LB002', 'b'],
      ['KW-LB010', 'b'],
    ]);
  });

  it('applies defaults and reads serviceAllocation', () => {
    const config = parseMetalLB([
      pool('p', ['10.0.0.0/24'], {
        serviceAllocation: {
          priority: 5,
          namespaces: ['a'],
          serviceSelectors: [{ matchLabels: { x: 'y' } }],
        },
      }),
      pool('q', ['10.0.1.0/24'], { autoAssign: false }),
    ]);
    const [p, q] = config.pools;
    expect([p?.autoAssign, p?.avoidBuggyIPs, p?.serviceAllocation?.priority]).toEqual([
      true,
      false,
      5,
    ]);
    expect(p?.serviceAllocation?.namespaces).toEqual(['a']);
    expect(q?.autoAssign).toBe(false);
  });

  it('resolves advertisement pools: none means all, names and selectors otherwise', () => {
    const config = parseMetalLB([
      pool('a', ['10.0.0.0/24'], {}, { zone: 'x' }),
      pool('b', ['10.0.1.0/24'], {}, { zone: 'y' }),
      pool('c', ['10.0.2.0/24']),
      l2('all'),
      l2('named', { ipAddressPools: ['c', 'missing'] }),
      l2('selected', {
        ipAddressPoolSelectors: [
          { matchExpressions: [{ key: 'zone', operator: 'In', values: ['y'] }] },
        ],
      }),
    ]);
    expect(config.l2Advertisements.map((a) => [a.name, a.pools])).toEqual([
      ['all', ['a', 'b', 'c']],
      ['named', ['c']],
      ['selected', ['b']],
    ]);
    expect(config.problems.map((p) => [p.code, p.path])).toEqual([
      ['KW-LB005', 'spec.ipAddressPools[1]'],
    ]);
  });

  it('reads BGPAdvertisement defaults, communities and aliases', () => {
    const config = parseMetalLB([
      pool('p', ['10.0.0.0/24', 'fd00::/120']),
      object('Community', 'aliases', {
        communities: [{ name: 'no-advertise', value: '65535:65282' }],
      }),
      bgpAdv('plain'),
      bgpAdv('tagged', {
        aggregationLength: 24,
        aggregationLengthV6: 120,
        localPref: 50,
        communities: ['65000:100', 'large:1:2:3', 'no-advertise', 'bogus', '70000:1'],
      }),
    ]);
    const [plain, tagged] = config.bgpAdvertisements;
    expect([plain?.aggregationLength, plain?.aggregationLengthV6, plain?.localPref]).toEqual([
      32,
      128,
      undefined,
    ]);
    expect(tagged?.communities).toEqual(['65000:100', 'large:1:2:3', '65535:65282']);
    expect(tagged?.localPref).toBe(50);
    expect(config.problems.map((p) => [p.code, p.path])).toEqual([
      ['KW-LB006', 'spec.communities[3]'],
      ['KW-LB006', 'spec.communities[4]'],
    ]);
  });

  it('refuses an aggregation length shorter than a pool prefix', () => {
    const config = parseMetalLB([
      pool('p', ['10.0.0.0/28']),
      bgpAdv('wide', { aggregationLength: 24 }),
    ]);
    expect(config.bgpAdvertisements[0]?.pools).toEqual([]);
    expect(config.problems[0]).toMatchObject({ code: 'KW-LB007', path: 'spec.aggregationLength' });
    expect(config.problems[0]?.hint).toMatch(/at least 28/);
  });

  it.each([
    {
      apiVersion: 'metallb.io/v1beta2',
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '172.18.0.100' },
    },
    {
      apiVersion: 'metallb.io/v1beta1',
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '172.18.0.100' },
    },
  ])('reads BGPPeer $apiVersion with defaults', ({ apiVersion, spec }) => {
    const config = parseMetalLB([peer('router', spec, apiVersion)]);
    expect(config.problems).toEqual([]);
    expect(config.bgpPeers[0]).toMatchObject({
      apiVersion,
      myASN: 64500,
      peerASN: 64501,
      peerAddress: '172.18.0.100',
      peerPort: 179,
      holdTime: '90s',
      ebgpMultiHop: false,
    });
  });

  it.each([
    { spec: { myASN: 64500, peerAddress: '172.18.0.100' }, path: 'spec.peerASN' },
    { spec: { peerASN: 64500, peerAddress: '172.18.0.100' }, path: 'spec.myASN' },
    { spec: { myASN: 1, peerASN: 2 }, path: 'spec.peerAddress' },
    { spec: { myASN: 1, peerASN: 2, peerAddress: 'router' }, path: 'spec.peerAddress' },
    {
      spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', peerPort: 70000 },
      path: 'spec.peerPort',
    },
    {
      spec: { myASN: 1, peerASN: 2, peerAddress: '10.0.0.1', holdTime: 'soon' },
      path: 'spec.holdTime',
    },
  ])('rejects a BGPPeer with a bad $path', ({ spec, path }) => {
    const config = parseMetalLB([peer('router', spec)]);
    expect(config.bgpPeers).toEqual([]);
    expect(config.problems.map((p) => [p.code, p.path])).toContainEqual(['KW-LB008', path]);
  });

  it('ignores resources outside the MetalLB namespace and removed kinds', () => {
    const config = parseMetalLB([
      object(
        'IPAddressPool',
        'elsewhere',
        { addresses: ['10.0.0.0/24'] },
        { namespace: 'default' },
      ),
      object('IPAddressPool', 'unscoped', { addresses: ['10.0.1.0/24'] }, { namespace: '' }),
      object('AddressPool', 'old', { addresses: ['10.0.2.0/24'] }),
    ]);
    expect(config.pools.map((p) => p.name)).toEqual(['unscoped']);
    expect(config.problems.map((p) => p.code)).toEqual(['KW-LB009', 'KW-LB012']);
  });
});

// ---- allocation -------------------------------------------------------------------------------

describe('allocateLoadBalancerIPs', () => {
  it.each([
    {
      name: 'CIDR, lowest first',
      addresses: ['10.0.0.0/24'],
      avoid: false,
      want: ['10.0.0.0', '10.0.0.1'],
    },
    {
      name: 'avoidBuggyIPs skips .0',
      addresses: ['10.0.0.0/24'],
      avoid: true,
      want: ['10.0.0.1', '10.0.0.2'],
    },
    {
      name: 'avoidBuggyIPs skips .255',
      addresses: ['10.0.0.254-10.0.1.3'],
      avoid: true,
      want: ['10.0.0.254', '10.0.1.1'],
    },
    {
      name: 'range',
      addresses: ['10.0.0.10-10.0.0.11'],
      avoid: false,
      want: ['10.0.0.10', '10.0.0.11'],
    },
    {
      name: 'second range',
      addresses: ['10.0.0.10/32', '10.0.5.0/30'],
      avoid: false,
      want: ['10.0.0.10', '10.0.5.0'],
    },
  ])('$name', ({ addresses, avoid, want }) => {
    const { result } = allocate(
      [pool('p', addresses, { avoidBuggyIPs: avoid })],
      [service('b'), service('a')],
    );
    expect([ipsOf(result, 'default/a'), ipsOf(result, 'default/b')]).toEqual(
      want.map((ip) => `${ip}@p`),
    );
  });

  it('allocates IPv6 for an IPv6 Service and a pair for dual-stack', () => {
    const { result } = allocate(
      [pool('dual', ['10.0.0.0/30', 'fd00::10/126'])],
      [
        service('v6', { clusterIP: 'fd00:96::1' }),
        service('both', { ipFamilies: ['IPv4', 'IPv6'] }),
      ],
    );
    expect(ipsOf(result, 'default/both')).toBe('10.0.0.0,fd00::10@dual');
    expect(ipsOf(result, 'default/v6')).toBe('fd00::11@dual');
  });

  it('leaves a pool with autoAssign false to Services that name it', () => {
    const objects = [pool('manual', ['10.0.0.0/24'], { autoAssign: false })];
    const { result } = allocate(objects, [
      service('auto'),
      service('named', { annotations: { 'metallb.io/address-pool': 'manual' } }),
    ]);
    expect(ipsOf(result, 'default/named')).toBe('10.0.0.0@manual');
    expect(pendingOf(result, 'default/auto')).toMatchObject({ code: 'KW-LB030', ignored: false });
    expect(pendingOf(result, 'default/auto').reason).toMatch(/manual: autoAssign is false/);
  });

  it('tries pools by serviceAllocation priority, pools without one last, ties by name', () => {
    const objects = [
      pool('a-none', ['10.0.0.0/32']),
      pool('b-ten', ['10.0.1.0/32'], { serviceAllocation: { priority: 10 } }),
      pool('c-one', ['10.0.2.0/32'], { serviceAllocation: { priority: 1 } }),
      pool('d-one', ['10.0.3.0/32'], { serviceAllocation: { priority: 1 } }),
    ];
    const { result } = allocate(
      objects,
      ['s1', 's2', 's3', 's4', 's5'].map((n) => service(n)),
    );
    expect(['s1', 's2', 's3', 's4'].map((n) => ipsOf(result, `default/${n}`))).toEqual([
      '10.0.2.0@c-one',
      '10.0.3.0@d-one',
      '10.0.1.0@b-ten',
      '10.0.0.0@a-none',
    ]);
    expect(pendingOf(result, 'default/s5').code).toBe('KW-LB031');
  });

  it.each([
    {
      name: 'namespaces list',
      alloc: { namespaces: ['team-a'] },
      allowed: ['team-a/s'],
      refused: ['team-b/s'],
    },
    {
      name: 'namespaceSelectors',
      alloc: { namespaceSelectors: [{ matchLabels: { tier: 'prod' } }] },
      allowed: ['team-b/s'],
      refused: ['team-a/s'],
    },
    {
      name: 'namespaces or namespaceSelectors',
      alloc: { namespaces: ['team-a'], namespaceSelectors: [{ matchLabels: { tier: 'prod' } }] },
      allowed: ['team-a/s', 'team-b/s'],
      refused: ['team-c/s'],
    },
    {
      name: 'serviceSelectors',
      alloc: { serviceSelectors: [{ matchExpressions: [{ key: 'expose', operator: 'Exists' }] }] },
      allowed: ['team-c/exposed'],
      refused: ['team-c/s'],
    },
  ])('serviceAllocation $name', ({ alloc, allowed, refused }) => {
    const services = ['team-a/s', 'team-b/s', 'team-c/s', 'team-c/exposed'].map((key) => {
      const [ns, name] = key.split('/') as [string, string];
      return service(name, { namespace: ns, labels: name === 'exposed' ? { expose: 'yes' } : {} });
    });
    const { result } = allocate(
      [pool('restricted', ['10.0.0.0/24'], { serviceAllocation: alloc })],
      services,
      {
        namespaces: [
          namespace('team-a'),
          namespace('team-b', { tier: 'prod' }),
          namespace('team-c'),
        ],
      },
    );
    for (const key of allowed) expect(ipsOf(result, key)).toMatch(/@restricted$/);
    for (const key of refused)
      expect(pendingOf(result, key).reason).toMatch(/restricted: serviceAllocation/);
  });

  it('names a pool that does not admit the Service or does not exist', () => {
    const objects = [pool('a-only', ['10.0.0.0/24'], { serviceAllocation: { namespaces: ['a'] } })];
    const { result } = allocate(objects, [
      service('x', { annotations: { 'metallb.io/address-pool': 'a-only' } }),
      service('y', { annotations: { 'metallb.universe.tf/address-pool': 'nope' } }),
    ]);
    expect(pendingOf(result, 'default/x').code).toBe('KW-LB036');
    expect(pendingOf(result, 'default/y').code).toBe('KW-LB034');
  });

  it.each<{ name: string; o: ServiceOptions; want: string }>([
    {
      name: 'annotation',
      o: { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.50' } },
      want: '10.0.0.50@p',
    },
    {
      name: 'old prefix',
      o: { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.0.0.51' } },
      want: '10.0.0.51@p',
    },
    { name: 'spec.loadBalancerIP', o: { loadBalancerIP: '10.0.0.52' }, want: '10.0.0.52@p' },
    {
      name: 'in a pool with autoAssign false',
      o: { annotations: { 'metallb.io/loadBalancerIPs': '10.0.1.7' } },
      want: '10.0.1.7@manual',
    },
    {
      name: 'outside every pool',
      o: { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.1' } },
      want: 'pending KW-LB032',
    },
    {
      name: 'not an IP',
      o: { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.x' } },
      want: 'pending KW-LB035',
    },
    {
      name: 'both annotation and spec',
      o: {
        annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.50' },
        loadBalancerIP: '10.0.0.50',
      },
      want: 'pending KW-LB035',
    },
    {
      name: 'in another pool than address-pool',
      o: {
        annotations: {
          'metallb.io/loadBalancerIPs': '10.0.0.50',
          'metallb.io/address-pool': 'manual',
        },
      },
      want: 'pending KW-LB039',
    },
    {
      name: 'wrong family',
      o: { annotations: { 'metallb.io/loadBalancerIPs': 'fd00::1' } },
      want: 'pending KW-LB035',
    },
    {
      name: 'dual-stack pair',
      o: {
        ipFamilies: ['IPv4', 'IPv6'],
        annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.9, fd00::9' },
      },
      want: '10.0.0.9,fd00::9@p',
    },
  ])('requested IP: $name', ({ o, want }) => {
    const objects = [
      pool('p', ['10.0.0.0/24', 'fd00::/120']),
      pool('manual', ['10.0.1.0/24'], { autoAssign: false }),
    ];
    const { result } = allocate(objects, [service('s', o)]);
    expect(ipsOf(result, 'default/s')).toBe(want);
  });

  it('honours requested IPs before automatic ones, whatever the names', () => {
    const { result } = allocate(
      [pool('p', ['10.0.0.0/30'])],
      [
        service('a-auto'),
        service('z-requests', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.0' } }),
      ],
    );
    expect(ipsOf(result, 'default/z-requests')).toBe('10.0.0.0@p');
    expect(ipsOf(result, 'default/a-auto')).toBe('10.0.0.1@p');
  });

  it('refuses a requested IP already taken by a Service that does not share', () => {
    const ask = { 'metallb.io/loadBalancerIPs': '10.0.0.5' };
    const { result } = allocate(
      [pool('p', ['10.0.0.0/24'])],
      [service('a', { annotations: ask }), service('b', { annotations: ask })],
    );
    expect(ipsOf(result, 'default/a')).toBe('10.0.0.5@p');
    expect(pendingOf(result, 'default/b')).toMatchObject({ code: 'KW-LB033' });
    expect(pendingOf(result, 'default/b').reason).toMatch(
      /default\/a holds it and does not allow sharing/,
    );
  });

  const shared = (key: string, ip = '10.0.0.5') => ({
    'metallb.io/allow-shared-ip': key,
    'metallb.io/loadBalancerIPs': ip,
  });
  it.each([
    {
      name: 'same key, different ports, both Cluster',
      b: { annotations: shared('k'), ports: [443] },
      want: '10.0.0.5@p',
    },
    {
      name: 'same port number on another protocol',
      b: { annotations: shared('k'), ports: [[80, 'UDP'] as [number, 'UDP']] },
      want: '10.0.0.5@p',
    },
    {
      name: 'port overlap',
      b: { annotations: shared('k') },
      want: 'pending KW-LB033',
      reason: /port TCP\/80 is already used on it by default\/a/,
    },
    {
      name: 'other sharing key',
      b: { annotations: shared('other'), ports: [443] },
      want: 'pending KW-LB033',
      reason: /sharing key "other" differs from "k"/,
    },
    {
      name: 'eTP Local with other selector',
      a: { local: true },
      b: { annotations: shared('k'), ports: [443], local: true },
      want: 'pending KW-LB033',
      reason: /another backend/,
    },
    {
      name: 'eTP Local with identical selector',
      a: { local: true, selector: { app: 'web' } },
      b: { annotations: shared('k'), ports: [443], local: true, selector: { app: 'web' } },
      want: '10.0.0.5@p',
    },
    {
      name: 'one Local, one Cluster',
      a: { local: true, selector: { app: 'web' } },
      b: { annotations: shared('k'), ports: [443], selector: { app: 'web' } },
      want: 'pending KW-LB033',
      reason: /another backend/,
    },
  ])('sharing: $name', ({ a, b, want, reason }) => {
    const { result } = allocate(
      [pool('p', ['10.0.0.0/24'])],
      [service('a', { annotations: shared('k'), ...a }), service('b', b)],
    );
    expect(ipsOf(result, 'default/a')).toBe('10.0.0.5@p');
    expect(ipsOf(result, 'default/b')).toBe(want);
    const outcome = result.get('default/b');
    if (outcome?.kind === 'allocated') expect(outcome.sharedWith).toEqual(['default/a']);
    if (reason) expect(pendingOf(result, 'default/b').reason).toMatch(reason);
  });

  it('lets automatic Services with one sharing key share the lowest address, but not on one port', () => {
    const key = { 'metallb.io/allow-shared-ip': 'web' };
    const { result } = allocate(
      [pool('p', ['10.0.0.0/24'])],
      [
        service('http', { annotations: key, ports: [80] }),
        service('https', { annotations: key, ports: [443] }),
        service('http2', { annotations: key, ports: [80] }),
      ],
    );
    expect(ipsOf(result, 'default/http')).toBe('10.0.0.0@p');
    expect(ipsOf(result, 'default/https')).toBe('10.0.0.0@p');
    expect(ipsOf(result, 'default/http2')).toBe('10.0.0.1@p');
    const usage = poolUsage(parseMetalLB([pool('p', ['10.0.0.0/24'])]), result);
    expect(usage[0]).toMatchObject({ total: 256, used: 2, available: 254 });
  });

  it.each([
    { lbClass: undefined, cls: 'example.com/other', want: 'ignored' },
    { lbClass: undefined, cls: undefined, want: 'allocated' },
    { lbClass: 'metallb.io/metallb', cls: 'metallb.io/metallb', want: 'allocated' },
    { lbClass: 'metallb.io/metallb', cls: undefined, want: 'ignored' },
    { lbClass: 'metallb.io/metallb', cls: 'example.com/other', want: 'ignored' },
  ])('loadBalancerClass $cls with --lb-class $lbClass: $want', ({ lbClass, cls, want }) => {
    const { result } = allocate(
      [pool('p', ['10.0.0.0/24'])],
      [service('s', cls === undefined ? {} : { loadBalancerClass: cls })],
      lbClass === undefined ? {} : { lbClass },
    );
    const outcome = result.get('default/s');
    expect(outcome?.kind === 'pending' && outcome.ignored ? 'ignored' : outcome?.kind).toBe(want);
  });

  it('only looks at LoadBalancer Services and says when no pool exists', () => {
    const config = parseMetalLB([]);
    const result = allocateLoadBalancerIPs({
      services: [service('lb'), service('np', { type: 'NodePort' })],
      namespaces: [],
      config,
    });
    expect([...result.keys()]).toEqual(['default/lb']);
    expect(pendingOf(result, 'default/lb').code).toBe('KW-LB038');
  });

  it('is deterministic: shuffled input gives the same allocations', () => {
    const objects = [
      pool('a', ['10.0.0.0/29'], { serviceAllocation: { priority: 2 } }),
      pool('b', ['10.0.1.0/30'], { avoidBuggyIPs: true }),
    ];
    const services = Array.from({ length: 12 }, (_, i) =>
      service(`s${i}`, {
        ports: [80 + (i % 3)],
        annotations:
          i % 4 === 0
            ? { 'metallb.io/allow-shared-ip': 'k' }
            : i === 7
              ? { 'metallb.io/loadBalancerIPs': '10.0.0.6' }
              : {},
      }),
    );
    const baseline = JSON.stringify([...allocate(objects, services).result]);
    for (const seed of [1, 2, 3]) {
      expect(
        JSON.stringify([...allocate(shuffled(objects, seed), shuffled(services, seed)).result]),
      ).toBe(baseline);
    }
  });
});

// ---- announcements ----------------------------------------------------------------------------

function scenario(
  objects: KubeObject[],
  services: LoadBalancerService[],
  nodes: NodeState[],
  slices: EndpointSliceState[],
) {
  const config: MetalLBConfig = parseMetalLB(objects);
  const allocations = allocateLoadBalancerIPs({
    services,
    namespaces: [namespace('default')],
    config,
  });
  return announce({ allocations, services, endpointSlices: slices, nodes, config });
}

const workers = ['worker-1', 'worker-2', 'worker-3', 'worker-4', 'worker-5'];
const workerNodes = workers.map((n, i) =>
  node(n, `172.18.0.${i + 2}`, { zone: i < 2 ? 'a' : 'b' }),
);
const everywhere = (key: string): EndpointSliceState =>
  slice(
    key,
    workers.map((n) => [n, true]),
  );

describe('announce: layer 2', () => {
  it.each(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.20'])(
    'elects the node MetalLB elects for %s',
    (ip) => {
      const s = service('web', { annotations: { 'metallb.io/loadBalancerIPs': ip } });
      const out = scenario([pool('p', ['10.0.0.0/24']), l2('l2')], [s], shuffled(workerNodes, 7), [
        everywhere('default/web'),
      ]);
      const [entry] = out.byService.get('default/web') ?? [];
      expect(entry?.mode).toBe('l2');
      expect(entry?.l2?.winner).toBe(expectedWinner(workers, ip));
      expect(entry?.announcedBy).toEqual([expectedWinner(workers, ip)]);
      expect(entry?.l2?.candidates).toHaveLength(5);
      expect(out.problems).toEqual([]);
    },
  );

  it('keys the election of a dual-stack Service on its first IP', () => {
    const s = service('dual', {
      ipFamilies: ['IPv4', 'IPv6'],
      annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.7,fd00::7' },
    });
    const out = scenario([pool('p', ['10.0.0.0/24', 'fd00::/120']), l2('l2')], [s], workerNodes, [
      everywhere('default/dual'),
    ]);
    const entries = out.byService.get('default/dual') ?? [];
    expect(entries.map((e) => [e.ip, e.l2?.winner])).toEqual([
      ['10.0.0.7', expectedWinner(workers, '10.0.0.7')],
      ['fd00::7', expectedWinner(workers, '10.0.0.7')],
    ]);
  });

  it.each([
    {
      name: 'nodeSelectors',
      adv: { nodeSelectors: [{ matchLabels: { zone: 'b' } }] },
      local: false,
      ready: workers,
      want: workers.slice(2),
    },
    {
      name: 'eTP Local',
      adv: {},
      local: true,
      ready: ['worker-1', 'worker-4'],
      want: ['worker-1', 'worker-4'],
    },
    {
      name: 'eTP Local and nodeSelectors',
      adv: { nodeSelectors: [{ matchLabels: { zone: 'b' } }] },
      local: true,
      ready: ['worker-1', 'worker-4'],
      want: ['worker-4'],
    },
  ])('restricts candidates by $name', ({ adv, local, ready, want }) => {
    const ip = '10.0.0.20';
    const s = service('web', { local, annotations: { 'metallb.io/loadBalancerIPs': ip } });
    const eps = slice(
      'default/web',
      workers.map((n) => [n, ready.includes(n)]),
    );
    const out = scenario([pool('p', ['10.0.0.0/24']), l2('l2', adv)], [s], workerNodes, [eps]);
    const [entry] = out.byService.get('default/web') ?? [];
    expect([...(entry?.l2?.candidates ?? [])].sort()).toEqual(want);
    expect(entry?.l2?.winner).toBe(expectedWinner(want, ip));
  });

  it('never elects a node labelled exclude-from-external-load-balancers', () => {
    const nodes = workerNodes.map((n) =>
      n.name === 'worker-5'
        ? n
        : { ...n, labels: { ...n.labels, [excludeFromLoadBalancersLabel]: '' } },
    );
    const out = scenario([pool('p', ['10.0.0.0/24']), l2('l2')], [service('web')], nodes, [
      everywhere('default/web'),
    ]);
    expect(out.byService.get('default/web')?.[0]?.announcedBy).toEqual(['worker-5']);
  });

  it('unions interfaces of the advertisements selecting the winner', () => {
    const out = scenario(
      [
        pool('p', ['10.0.0.0/24']),
        l2('a', { interfaces: ['eth1'] }),
        l2('b', { interfaces: ['eth0', 'eth1'] }),
      ],
      [service('web')],
      workerNodes,
      [everywhere('default/web')],
    );
    const l2a = out.byService.get('default/web')?.[0]?.l2;
    expect(l2a?.interfaces).toEqual(['eth0', 'eth1']);
    expect(l2a?.advertisements).toEqual(['a', 'b']);
  });

  it.each([
    {
      name: 'no advertisement',
      objects: [pool('p', ['10.0.0.0/24'])],
      local: false,
      ready: workers,
      code: 'KW-LB020',
    },
    {
      name: 'advertisement for another pool',
      objects: [
        pool('p', ['10.0.0.0/24']),
        pool('q', ['10.0.1.0/24']),
        l2('l2', { ipAddressPools: ['q'] }),
      ],
      local: false,
      ready: workers,
      code: 'KW-LB020',
    },
    {
      name: 'no ready endpoint',
      objects: [pool('p', ['10.0.0.0/24']), l2('l2')],
      local: false,
      ready: [],
      code: 'KW-LB022',
    },
    {
      name: 'nodeSelectors match no node',
      objects: [
        pool('p', ['10.0.0.0/24']),
        l2('l2', { nodeSelectors: [{ matchLabels: { zone: 'z' } }] }),
      ],
      local: false,
      ready: workers,
      code: 'KW-LB021',
    },
    {
      name: 'eTP Local with endpoints only outside the selected nodes',
      objects: [
        pool('p', ['10.0.0.0/24']),
        l2('l2', { nodeSelectors: [{ matchLabels: { zone: 'b' } }] }),
      ],
      local: true,
      ready: ['worker-1'],
      code: 'KW-LB021',
    },
  ])('reports an assigned IP announced by nobody: $name', ({ objects, local, ready, code }) => {
    const eps = slice(
      'default/web',
      workers.map((n) => [n, ready.includes(n)]),
    );
    const out = scenario(objects, [service('web', { local })], workerNodes, [eps]);
    const [entry] = out.byService.get('default/web') ?? [];
    expect(entry).toMatchObject({ ip: '10.0.0.0', announcedBy: [], modes: [] });
    expect(entry?.mode).toBeUndefined();
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({
      code,
      severity: 'error',
      object: { kind: 'Service', namespace: 'default', name: 'web' },
    });
    expect(out.problems[0]?.message).toMatch(
      /10\.0\.0\.0 from IPAddressPool "p" is assigned but announced by no node/,
    );
  });
});

describe('announce: BGP', () => {
  const router = peer('router', { myASN: 64500, peerASN: 64501, peerAddress: '172.18.0.100' });
  const ibgp = peer('rr', {
    myASN: 64500,
    peerASN: 64500,
    peerAddress: '172.18.0.101',
    nodeSelectors: [{ matchLabels: { zone: 'a' } }],
  });
  const nodes = workerNodes.slice(0, 3);

  it('aggregates two IPs of a /24 into one prefix per node and peer, with communities and next hop', () => {
    const out = scenario(
      [
        pool('p', ['10.0.0.0/24']),
        object('Community', 'c', { communities: [{ name: 'gold', value: '65000:1' }] }),
        bgpAdv('agg', {
          aggregationLength: 24,
          communities: ['gold', 'large:64500:1:2'],
          localPref: 200,
        }),
        router,
      ],
      [
        service('a', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.5' } }),
        service('b', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.9' } }),
      ],
      nodes,
      [slice('default/a', [['worker-1', true]]), slice('default/b', [['worker-2', true]])],
    );
    expect(out.routes).toEqual(
      nodes.map((n) => ({
        node: n.name,
        peer: 'router',
        peerAddress: '172.18.0.100',
        prefix: '10.0.0.0/24',
        nextHop: n.ip,
        communities: ['65000:1', 'large:64500:1:2'],
        advertisements: ['agg'],
        services: ['default/a', 'default/b'],
      })),
    );
    const a = out.byService.get('default/a')?.[0];
    expect(a).toMatchObject({ mode: 'bgp', modes: ['bgp'], bgpPrefixes: ['10.0.0.0/24'] });
    expect(a?.announcedBy).toEqual(['worker-1', 'worker-2', 'worker-3']);
  });

  it('sends localPref to iBGP peers only and honours peer nodeSelectors and spec.peers', () => {
    const out = scenario(
      [
        pool('p', ['10.0.0.0/24']),
        bgpAdv('host', { localPref: 200 }),
        bgpAdv('rr-only', { peers: ['rr'], aggregationLength: 30 }),
        router,
        ibgp,
      ],
      [service('a', { annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.5' } })],
      nodes,
      [everywhere('default/a')],
    );
    const summary = out.routes.map(
      (r) => `${r.node} ${r.peer} ${r.prefix} lp=${r.localPref ?? '-'}`,
    );
    expect(summary).toEqual([
      'worker-1 router 10.0.0.5/32 lp=-',
      'worker-1 rr 10.0.0.4/30 lp=-',
      'worker-1 rr 10.0.0.5/32 lp=200',
      'worker-2 router 10.0.0.5/32 lp=-',
      'worker-2 rr 10.0.0.4/30 lp=-',
      'worker-2 rr 10.0.0.5/32 lp=200',
      'worker-3 router 10.0.0.5/32 lp=-',
    ]);
  });

  it('advertises from nodes with ready local endpoints only under eTP Local', () => {
    const out = scenario(
      [pool('p', ['10.0.0.0/24']), bgpAdv('host'), router],
      [service('a', { local: true, annotations: { 'metallb.io/loadBalancerIPs': '10.0.0.5' } })],
      nodes,
      [
        slice('default/a', [
          ['worker-2', true],
          ['worker-3', false],
        ]),
      ],
    );
    expect(out.routes.map((r) => r.node)).toEqual(['worker-2']);
  });

  it('aggregates IPv6 with aggregationLengthV6', () => {
    const out = scenario(
      [pool('p', ['fd00::/120']), bgpAdv('v6', { aggregationLengthV6: 124 }), router],
      [
        service('a', {
          clusterIP: 'fd00:96::1',
          annotations: { 'metallb.io/loadBalancerIPs': 'fd00::17' },
        }),
      ],
      nodes.slice(0, 1),
      [everywhere('default/a')],
    );
    expect(out.routes.map((r) => r.prefix)).toEqual(['fd00::10/124']);
  });

  it('reports an IP with a BGPAdvertisement but no peer for its nodes', () => {
    const out = scenario(
      [pool('p', ['10.0.0.0/24']), bgpAdv('host'), ibgp],
      [service('a')],
      [node('worker-9', '172.18.0.9')],
      [slice('default/a', [['worker-9', true]])],
    );
    expect(out.routes).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['KW-LB023']);
  });

  it('announces in both modes when both advertisements cover the pool', () => {
    const out = scenario(
      [pool('p', ['10.0.0.0/24']), l2('l2'), bgpAdv('host'), router],
      [service('a')],
      nodes,
      [everywhere('default/a')],
    );
    const entry = out.byService.get('default/a')?.[0];
    expect(entry?.modes).toEqual(['l2', 'bgp']);
    expect(entry?.mode).toBe('l2');
    expect(entry?.announcedBy).toEqual(['worker-1', 'worker-2', 'worker-3']);
  });

  it('is deterministic: shuffled nodes, slices and objects give the same announcements', () => {
    const objects = [
      pool('p', ['10.0.0.0/28']),
      l2('l2', { nodeSelectors: [{ matchLabels: { zone: 'b' } }] }),
      bgpAdv('agg', { aggregationLength: 28 }),
      router,
    ];
    const services = ['a', 'b', 'c', 'd'].map((n, i) => service(n, { local: i % 2 === 0 }));
    const slices = services.map((s, i) =>
      slice(
        `default/${s.name}`,
        workers.map((w, j) => [w, (i + j) % 3 !== 0]),
      ),
    );
    const render = (seed: number) => {
      const out = scenario(
        shuffled(objects, seed),
        shuffled(services, seed),
        shuffled(workerNodes, seed),
        shuffled(slices, seed),
      );
      return JSON.stringify({
        byService: [...out.byService],
        routes: out.routes,
        problems: out.problems,
      });
    };
    const baseline = render(0);
    for (const seed of [11, 12, 13]) expect(render(seed)).toBe(baseline);
  });
});
