/**
 * NetworkPolicy cases the upstream e2e suite does not cover: ipBlock except, IPv6, endPort, SCTP,
 * named ports per pod, empty vs absent fields, policyTypes defaults, CNI ignoring policies, external
 * atoms, workload folding, formats, diff and lint.
 */
import { describe, expect, it } from 'vitest';
import type { NetworkPolicySpec, Protocol } from '../src/api/types.js';
import { diffReach, formatDiffText } from '../src/analysis/diff/index.js';
import { lintNetworkPolicies } from '../src/analysis/netpol-lint/index.js';
import { compilePolicies } from '../src/controllers/networkpolicy/index.js';
import { connsAllow, connsFromJson, evaluateConnection } from '../src/model/policy/index.js';
import type { NetworkState, PodState } from '../src/model/types.js';
import {
  computeReach,
  reachFormats,
  type Reachability,
  type ReachOptions,
} from '../src/sim/reach/index.js';
import { netpolState, policy, type TestNetwork, type TestPod } from './support/netpol-state.js';

const web = (name: string, ip: string, extra: Partial<TestPod> = {}): TestPod => ({
  namespace: 'x',
  name,
  labels: { app: 'web' },
  ports: [{ name: 'http', containerPort: 8080 }],
  ip,
  ...extra,
});
const client: TestPod = {
  namespace: 'y',
  name: 'client',
  labels: { app: 'client' },
  ip: '10.244.2.10',
};

function setup(input: TestNetwork) {
  const state = netpolState(input);
  const compiled = compilePolicies(state);
  const pod = (id: string): PodState => {
    const found = state.pods.find((p) => `${p.namespace}/${p.name}` === id);
    if (!found) throw new Error(`no pod ${id}`);
    return found;
  };
  const allowed = (src: string, dst: string, protocol: Protocol, port: number): boolean =>
    evaluateConnection(
      compiled,
      src.includes('/') ? pod(src) : src,
      dst.includes('/') ? pod(dst) : dst,
      protocol,
      port,
    ).allowed;
  const reach = (opts: Partial<ReachOptions> = {}): Reachability =>
    computeReach(state, compiled, { granularity: 'pod', ...opts });
  return { state, compiled, pod, allowed, reach };
}

function connsOfPair(reach: Reachability, src: string, dst: string): string | undefined {
  const c = reach.connections.find((x) => x.src === src && x.dst === dst);
  return c === undefined ? undefined : JSON.stringify(c.conns);
}

const egressTo = (spec: NetworkPolicySpec['egress']): NetworkPolicySpec => ({
  podSelector: { matchLabels: { app: 'web' } },
  policyTypes: ['Egress'],
  egress: spec ?? [],
});

describe('ipBlock', () => {
  const { allowed, reach } = setup({
    pods: [web('w1', '10.244.1.10')],
    policies: [
      policy(
        'x',
        'out',
        egressTo([{ to: [{ ipBlock: { cidr: '192.168.0.0/16', except: ['192.168.1.0/24'] } }] }]),
      ),
    ],
  });

  it.each([
    ['192.168.2.5', true],
    ['192.168.0.1', true],
    ['192.168.1.5', false],
    ['10.1.0.1', false],
  ] as const)('egress to %s allowed=%s', (ip, expected) => {
    expect(allowed('x/w1', ip, 'TCP', 443)).toBe(expected);
  });

  it('cuts external peers at cidr and except boundaries', () => {
    const r = reach();
    const ids = r.peers.filter((p) => p.kind === 'External').map((p) => p.id);
    expect(ids).toContain('192.168.0.0-192.168.0.255[External]');
    expect(ids).toContain('192.168.1.0-192.168.1.255[External]');
    expect(ids).toContain('192.168.2.0-192.168.255.255[External]');
    expect(r.connections.filter((c) => c.src === 'x/w1[Pod]').map((c) => c.dst)).toEqual([
      '192.168.0.0-192.168.0.255[External]',
      '192.168.2.0-192.168.255.255[External]',
    ]);
    expect(r.peers.find((p) => p.id === '192.168.2.0-192.168.255.255[External]')?.cidrs).toEqual([
      '192.168.2.0/23',
      '192.168.4.0/22',
      '192.168.8.0/21',
      '192.168.16.0/20',
      '192.168.32.0/19',
      '192.168.64.0/18',
      '192.168.128.0/17',
    ]);
  });

  it('never selects an in-cluster pod IP (DESIGN.md), unless asked to', () => {
    const pods = [web('w1', '10.244.1.10'), { ...client, ip: '10.244.2.10' }];
    const policies = [
      policy('x', 'out', egressTo([{ to: [{ ipBlock: { cidr: '10.244.2.10/32' } }] }])),
    ];
    const state = netpolState({ pods, policies });
    const [w1, c] = state.pods as [PodState, PodState];
    expect(evaluateConnection(compilePolicies(state), w1, c, 'TCP', 80).allowed).toBe(false);
    expect(
      evaluateConnection(compilePolicies(state, { ipBlockSelectsPods: true }), w1, c, 'TCP', 80)
        .allowed,
    ).toBe(true);
  });
});

describe('IPv6', () => {
  const { allowed, reach } = setup({
    pods: [web('w1', '10.244.1.10')],
    policies: [
      policy(
        'x',
        'out',
        egressTo([{ to: [{ ipBlock: { cidr: '2001:db8::/32', except: ['2001:db8:1::/48'] } }] }]),
      ),
    ],
  });

  it.each([
    ['2001:db8:2::1', true],
    ['2001:db8::5', true],
    ['2001:db8:1::1', false],
    ['2001:db9::1', false],
  ] as const)('egress to %s allowed=%s', (ip, expected) => {
    expect(allowed('x/w1', ip, 'TCP', 443)).toBe(expected);
  });

  it('adds IPv6 external atoms when the inputs use IPv6', () => {
    const ids = reach()
      .connections.filter((c) => c.src === 'x/w1[Pod]')
      .map((c) => c.dst);
    expect(ids).toEqual([
      '2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff[External]',
      '2001:db8:2::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External]',
    ]);
  });
});

describe('ports', () => {
  const ingress = (
    ports: NonNullable<NetworkPolicySpec['ingress']>[number]['ports'],
  ): NetworkPolicySpec => ({
    podSelector: { matchLabels: { app: 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ ...(ports ? { ports } : {}) }],
  });

  it.each([
    ['endPort range', [{ port: 8000, endPort: 8100 }], 'TCP', 8100, true],
    ['endPort range end', [{ port: 8000, endPort: 8100 }], 'TCP', 8101, false],
    ['SCTP only', [{ protocol: 'SCTP', port: 80 }], 'SCTP', 80, true],
    ['SCTP is not TCP', [{ protocol: 'SCTP', port: 80 }], 'TCP', 80, false],
    ['UDP without port: all UDP', [{ protocol: 'UDP' }], 'UDP', 5353, true],
    ['UDP without port: no TCP', [{ protocol: 'UDP' }], 'TCP', 5353, false],
    ['named port resolved on the pod', [{ port: 'http' }], 'TCP', 8080, true],
    ['named port is only that port', [{ port: 'http' }], 'TCP', 80, false],
    ['named port needs the same protocol', [{ port: 'http', protocol: 'UDP' }], 'UDP', 8080, false],
    ['absent ports: everything', undefined, 'SCTP', 9, true],
    ['empty ports: everything', [], 'UDP', 9, true],
  ] as const)('%s', (_name, ports, protocol, port, expected) => {
    const { allowed } = setup({
      pods: [web('w1', '10.244.1.10'), client],
      policies: [policy('x', 'in', ingress(ports))],
    });
    expect(allowed('y/client', 'x/w1', protocol, port)).toBe(expected);
  });

  it('resolves a named port per destination pod, for ingress and egress', () => {
    const { reach } = setup({
      pods: [
        web('w1', '10.244.1.10'),
        web('w2', '10.244.1.11', { ports: [{ name: 'http', containerPort: 9090 }] }),
        { ...client, labels: { app: 'client' } },
      ],
      policies: [
        policy('x', 'in', ingress([{ port: 'http' }])),
        policy('y', 'out', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ ports: [{ port: 'http' }] }],
        }),
      ],
    });
    const r = reach();
    expect(connsOfPair(r, 'y/client[Pod]', 'x/w1[Pod]')).toBe(
      '[{"protocol":"TCP","ports":[[8080,8080]]}]',
    );
    expect(connsOfPair(r, 'y/client[Pod]', 'x/w2[Pod]')).toBe(
      '[{"protocol":"TCP","ports":[[9090,9090]]}]',
    );
    expect(
      r.connections.filter((c) => c.src === 'y/client[Pod]' && c.dst.endsWith('[External]')),
    ).toEqual([]);
  });

  it('lists protocols TCP, UDP, SCTP with merged ranges', () => {
    const { reach } = setup({
      pods: [web('w1', '10.244.1.10'), client],
      policies: [
        policy(
          'x',
          'in',
          ingress([
            { protocol: 'SCTP', port: 7 },
            { port: 81 },
            { port: 80 },
            { protocol: 'UDP', port: 53 },
            { port: 82, endPort: 90 },
          ]),
        ),
      ],
    });
    expect(reach().connections.find((c) => c.dst === 'x/w1[Pod]')?.conns).toEqual([
      { protocol: 'TCP', ports: [[80, 90]] },
      { protocol: 'UDP', ports: [[53, 53]] },
      { protocol: 'SCTP', ports: [[7, 7]] },
    ]);
  });
});

describe('empty vs absent fields and policyTypes defaults', () => {
  const pods = [web('w1', '10.244.1.10'), client];
  it.each([
    ['ingress [{}] allows all', { podSelector: {}, ingress: [{}] }, true, true],
    ['ingress [{from: []}] allows all', { podSelector: {}, ingress: [{ from: [] }] }, true, true],
    ['ingress [] denies all', { podSelector: {}, ingress: [] }, false, true],
    [
      'absent ingress with policyTypes Ingress denies all',
      { podSelector: {}, policyTypes: ['Ingress'] },
      false,
      true,
    ],
    [
      'no policyTypes, egress rules: both isolated',
      { podSelector: {}, egress: [{ ports: [{ port: 53, protocol: 'UDP' }] }] },
      false,
      false,
    ],
    [
      'no policyTypes, egress []: egress not isolated',
      { podSelector: {}, egress: [] },
      false,
      true,
    ],
    [
      'policyTypes Egress only: ingress rules ignored',
      { podSelector: {}, policyTypes: ['Egress'], ingress: [], egress: [{}] },
      true,
      true,
    ],
    [
      'egress [{to: []}] allows all',
      { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [] }] },
      true,
      true,
    ],
  ] as const)('%s', (_name, spec, ingressOpen, egressOpen) => {
    const { allowed } = setup({ pods, policies: [policy('x', 'p', spec)] });
    expect(allowed('y/client', 'x/w1', 'TCP', 80)).toBe(ingressOpen);
    expect(allowed('x/w1', 'y/client', 'TCP', 80)).toBe(egressOpen);
  });

  it.each([
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['client', 'x'] }] }, true],
    ['NotIn', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['client'] }] }, false],
    [
      'NotIn on a missing key',
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] },
      true,
    ],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false],
  ] as const)('podSelector with %s in any namespace', (_name, podSelector, expected) => {
    const spec = {
      podSelector: {},
      ingress: [{ from: [{ namespaceSelector: {}, podSelector }] }],
    } as NetworkPolicySpec;
    const { allowed } = setup({ pods, policies: [policy('x', 'p', spec)] });
    expect(allowed('y/client', 'x/w1', 'TCP', 80)).toBe(expected);
  });
});

describe('CNI that ignores policies', () => {
  it('allows everything and says why', () => {
    const { compiled, pod, reach } = setup({
      networkPolicy: 'ignored',
      pods: [web('w1', '10.244.1.10'), client],
      policies: [policy('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
    });
    const verdict = evaluateConnection(compiled, pod('y/client'), pod('x/w1'), 'TCP', 80);
    expect(verdict).toMatchObject({ allowed: true, enforced: false });
    expect(verdict.detail).toBe('allowed: the CNI (flannel) does not enforce NetworkPolicies');
    expect(connsOfPair(reach(), 'y/client[Pod]', 'x/w1[Pod]')).toBe('"all"');
  });
});

describe('evaluateConnection explanations', () => {
  const { compiled, pod } = setup({
    pods: [web('w1', '10.244.1.10'), client],
    policies: [
      policy('x', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] }),
      policy('x', 'allow-web', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [
          {
            from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: 'client' } } }],
            ports: [{ port: 8080 }],
          },
        ],
      }),
    ],
  });

  it('names the allowing rule', () => {
    const v = evaluateConnection(compiled, pod('y/client'), pod('x/w1'), 'TCP', 8080);
    expect(v.allowed).toBe(true);
    expect(v.ingress.allowedBy).toEqual([
      {
        namespace: 'x',
        name: 'allow-web',
        direction: 'ingress',
        index: 0,
        field: 'spec.ingress[0]',
      },
    ]);
    expect(v.egress).toMatchObject({ isolated: false, allowed: true });
  });

  it('names the isolating policies and what would allow a denial', () => {
    const v = evaluateConnection(compiled, pod('y/client'), pod('x/w1'), 'TCP', 80);
    expect(v.allowed).toBe(false);
    expect(v.ingress.detail).toBe(
      'denied by default-deny (isolated by x/allow-web, x/deny-all, no rule allows TCP/80 from y/client)',
    );
    expect(v.ingress.nearMisses.map((m) => m.lacks)).toEqual(['port']);
    expect(v.ingress.hint).toBe('add TCP/80 to the ports of x/allow-web spec.ingress[0]');
  });

  it('judges external sources by ipBlocks only', () => {
    const v = evaluateConnection(compiled, '203.0.113.9', pod('x/w1'), 'TCP', 8080);
    expect(v.allowed).toBe(false);
    expect(v.egress.detail).toBe('no egress policy applies outside the cluster (203.0.113.9)');
  });
});

describe('reach peers', () => {
  it('cuts the address space outside the pod CIDR at every ipBlock boundary', () => {
    const { reach } = setup({
      pods: [web('w1', '10.244.1.10')],
      policies: [policy('x', 'out', egressTo([{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }]))],
    });
    const externals = reach().peers.filter((p) => p.kind === 'External');
    expect(externals).toEqual([
      {
        id: '0.0.0.0-9.255.255.255[External]',
        kind: 'External',
        cidrs: ['0.0.0.0/5', '8.0.0.0/7'],
      },
      { id: '10.0.0.0-10.243.255.255[External]', kind: 'External', cidrs: expect.any(Array) },
      { id: '10.245.0.0-10.255.255.255[External]', kind: 'External', cidrs: expect.any(Array) },
      { id: '11.0.0.0-255.255.255.255[External]', kind: 'External', cidrs: expect.any(Array) },
    ]);
  });

  it('without policies: two external peers around the pod CIDR, all connections', () => {
    const r = setup({ pods: [web('w1', '10.244.1.10'), client] }).reach();
    expect(r.peers.map((p) => p.id)).toEqual([
      'x/w1[Pod]',
      'y/client[Pod]',
      '0.0.0.0-10.243.255.255[External]',
      '10.245.0.0-255.255.255.255[External]',
    ]);
    expect(r.connections).toHaveLength(2 + 2 * 2 * 2);
    expect(r.connections.every((c) => c.conns === 'all' && c.src !== c.dst)).toBe(true);
    expect(new Set(r.connections.map((c) => `${c.src}>${c.dst}`)).size).toBe(r.connections.length);
  });

  it('skips add-on pods unless asked', () => {
    const dns: TestPod = {
      namespace: 'kube-system',
      name: 'coredns-0',
      labels: { 'k8s-app': 'kube-dns' },
      addon: true,
    };
    const { reach } = setup({ pods: [web('w1', '10.244.1.10'), dns] });
    expect(reach().peers.some((p) => p.namespace === 'kube-system')).toBe(false);
    expect(reach({ addons: true }).peers.some((p) => p.id === 'kube-system/coredns-0[Pod]')).toBe(
      true,
    );
  });

  it('filters by from, to, port and namespace', () => {
    const { reach } = setup({
      pods: [web('w1', '10.244.1.10'), client, { namespace: 'z', name: 'c', labels: {} }],
    });
    const r = reach({ from: 'y/client', to: 'x/*', port: { protocol: 'TCP', port: 80 } });
    expect(r.connections).toEqual([
      { src: 'y/client[Pod]', dst: 'x/w1[Pod]', conns: [{ protocol: 'TCP', ports: [[80, 80]] }] },
    ]);
    const n = reach({ namespace: 'z' });
    expect(n.connections.every((c) => c.src.startsWith('z/') || c.dst.startsWith('z/'))).toBe(true);
  });
});

describe('workload folding', () => {
  const deploy = { kind: 'Deployment', name: 'web' };
  const { reach } = setup({
    pods: [
      web('web-1', '10.244.1.10', { labels: { app: 'web', version: 'v1' }, workload: deploy }),
      web('web-2', '10.244.1.11', { labels: { app: 'web', version: 'v2' }, workload: deploy }),
      { ...client, workload: { kind: 'Deployment', name: 'client' } },
    ],
    policies: [
      policy('x', 'web', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ ports: [{ port: 80 }] }],
      }),
      policy('x', 'v2', {
        podSelector: { matchLabels: { version: 'v2' } },
        ingress: [{ ports: [{ port: 443 }] }],
      }),
    ],
  });

  it('a workload pair allows what every pod pair allows; explain carries the union', () => {
    const r = reach({ granularity: 'workload', explain: true });
    const pair = r.connections.find(
      (c) => c.src === 'y/client[Deployment]' && c.dst === 'x/web[Deployment]',
    );
    expect(pair?.conns).toEqual([{ protocol: 'TCP', ports: [[80, 80]] }]);
    expect(pair?.explain?.union).toEqual([
      {
        protocol: 'TCP',
        ports: [
          [80, 80],
          [443, 443],
        ],
      },
    ]);
    expect(pair?.explain?.ingress.isolatedBy).toEqual(['x/web', 'x/v2']);
    expect(r.connections.some((c) => c.src === c.dst)).toBe(false);
    expect(r.peers.filter((p) => p.kind === 'Deployment').map((p) => p.id)).toEqual([
      'x/web[Deployment]',
      'y/client[Deployment]',
    ]);
  });

  it('pod granularity keeps the pods apart', () => {
    const r = reach();
    expect(connsOfPair(r, 'y/client[Pod]', 'x/web-2[Pod]')).toBe(
      '[{"protocol":"TCP","ports":[[80,80],[443,443]]}]',
    );
    expect(connsOfPair(r, 'x/web-1[Pod]', 'x/web-2[Pod]')).toBe(
      '[{"protocol":"TCP","ports":[[80,80],[443,443]]}]',
    );
  });
});

describe('formats', () => {
  const small: Reachability = {
    apiVersion: 'kwire.dev/v1alpha1',
    kind: 'Reachability',
    granularity: 'workload',
    peers: [
      { id: 'x/a[Deployment]', kind: 'Deployment', namespace: 'x', name: 'a' },
      { id: 'y/b[Deployment]', kind: 'Deployment', namespace: 'y', name: 'b' },
      {
        id: '0.0.0.0-9.255.255.255[External]',
        kind: 'External',
        cidrs: ['0.0.0.0/5', '8.0.0.0/7'],
      },
    ],
    connections: [
      {
        src: 'x/a[Deployment]',
        dst: 'y/b[Deployment]',
        conns: [
          {
            protocol: 'TCP',
            ports: [
              [80, 80],
              [8080, 8090],
            ],
          },
          { protocol: 'UDP', ports: [[53, 53]] },
        ],
      },
      { src: 'y/b[Deployment]', dst: '0.0.0.0-9.255.255.255[External]', conns: 'all' },
    ],
  };

  it('txt', () => {
    expect(reachFormats.txt(small)).toBe(
      'x/a[Deployment] => y/b[Deployment] : TCP 80,8080-8090,UDP 53\ny/b[Deployment] => 0.0.0.0-9.255.255.255[External] : All Connections\n',
    );
    expect(reachFormats.txt({ ...small, connections: [] })).toBe('No Connections\n');
  });

  it('csv and md', () => {
    expect(reachFormats.csv(small).split('\n')[1]).toBe(
      'x/a[Deployment],y/b[Deployment],"TCP 80,8080-8090,UDP 53"',
    );
    expect(reachFormats.md(small).split('\n').slice(0, 3)).toEqual([
      '| src | dst | conn |',
      '|-----|-----|------|',
      '| x/a[Deployment] | y/b[Deployment] | TCP 80,8080-8090,UDP 53 |',
    ]);
  });

  it('json round-trips the document', () => {
    expect(JSON.parse(reachFormats.json(small))).toEqual(small);
  });

  it('matrix', () => {
    const lines = reachFormats.matrix(small).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toMatch(/^x\/a\[Deployment\]\s+#\s+TCP 80,8080-8090,UDP 53\s+-$/);
    expect(lines[2]).toMatch(/\ball$/);
  });

  it('dot draws namespaces as clusters', () => {
    const out = reachFormats.dot(small);
    expect(out).toContain(
      'subgraph cluster_0 {\n    label="x";\n    "x/a[Deployment]" [label="a[Deployment]"];\n  }',
    );
    expect(out).toContain(
      '"x/a[Deployment]" -> "y/b[Deployment]" [label="TCP 80,8080-8090,UDP 53"];',
    );
    expect(out).toContain(
      '"0.0.0.0-9.255.255.255[External]" [label="0.0.0.0-9.255.255.255", shape=ellipse];',
    );
  });

  it('mermaid', () => {
    const out = reachFormats.mermaid(small);
    expect(out.split('\n').slice(0, 4)).toEqual([
      'flowchart LR',
      '  subgraph ns0["x"]',
      '    p0["a[Deployment]"]',
      '  end',
    ]);
    expect(out).toContain('  p0 -->|"TCP 80,8080-8090,UDP 53"| p1');
  });
});

describe('diff', () => {
  const pods = [web('w1', '10.244.1.10'), client];
  const reachOf = (state: NetworkState): Reachability =>
    computeReach(state, compilePolicies(state), { granularity: 'pod', explain: true });
  const before = reachOf(netpolState({ pods }));
  const after = reachOf(
    netpolState({
      pods,
      policies: [
        policy('x', 'web', {
          podSelector: { matchLabels: { app: 'web' } },
          ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 8080 }] }],
        }),
        policy(
          'x',
          'out',
          egressTo([{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }]),
        ),
      ],
    }),
  );

  it('reports lost ports and pairs with the policies responsible', () => {
    const d = diffReach(before, after);
    expect(d.same).toBe(false);
    expect(d.explained).toBe(true);
    expect(d.changes.find((c) => c.src === 'y/client[Pod]' && c.dst === 'x/w1[Pod]')).toMatchObject(
      {
        change: 'changed',
        old: 'all',
        new: [{ protocol: 'TCP', ports: [[8080, 8080]] }],
        responsible: ['x/web'],
      },
    );
    expect(d.changes.find((c) => c.src === 'x/w1[Pod]' && c.dst === 'y/client[Pod]')).toMatchObject(
      {
        change: 'removed',
        responsible: ['x/out'],
      },
    );
    expect(
      d.changes.find((c) => c.src === 'x/w1[Pod]' && c.dst === '10.0.0.0-10.243.255.255[External]')
        ?.change,
    ).toBe('removed');
    expect(
      d.changes.some(
        (c) => c.src === 'x/w1[Pod]' && c.dst === '11.0.0.0-255.255.255.255[External]',
      ),
    ).toBe(false);
    expect(formatDiffText(d)).toContain(
      '~ y/client[Pod] => x/w1[Pod] : All Connections -> TCP 8080; lost ',
    );
    expect(formatDiffText(diffReach(after, after))).toBe('No differences\n');
    expect(
      diffReach(after, before).changes.find(
        (c) => c.src === 'x/w1[Pod]' && c.dst === 'y/client[Pod]',
      )?.change,
    ).toBe('added');
  });
});

describe('lint', () => {
  const dns: TestPod = {
    namespace: 'kube-system',
    name: 'coredns',
    labels: { 'k8s-app': 'kube-dns' },
    ports: [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53 },
    ],
    addon: true,
  };
  const codes = (input: TestNetwork): string[] => {
    const state = netpolState(input);
    return lintNetworkPolicies(state, compilePolicies(state)).map(
      (p) => `${p.code} ${p.path ?? ''}`,
    );
  };
  const base = { pods: [web('w1', '10.244.1.10'), client, dns] };

  it.each([
    [
      'selects no pod',
      { podSelector: { matchLabels: { app: 'nope' } } },
      ['KW-NP001 spec.podSelector'],
    ],
    [
      'peer matches nothing',
      {
        podSelector: {},
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'ghost' } } }] }],
      },
      ['KW-NP002 spec.ingress[0].from[0]'],
    ],
    [
      'namespace selector matches nothing',
      {
        podSelector: {},
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'none' } } }] }],
      },
      ['KW-NP002 spec.ingress[0].from[0].namespaceSelector'],
    ],
    [
      'egress without DNS',
      { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 443 }] }] },
      ['KW-NP003 spec.egress'],
    ],
    [
      'named port nobody defines',
      { podSelector: {}, ingress: [{ ports: [{ port: 'grpc' }] }] },
      ['KW-NP004 spec.ingress[0].ports[0].port'],
    ],
    [
      'ipBlock in the pod CIDR',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.244.1.0/24' } }] }] },
      ['KW-NP005 spec.ingress[0].from[0].ipBlock.cidr'],
    ],
    [
      'ipBlock in the Service CIDR',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.96.0.10/32' } }] }] },
      ['KW-NP006 spec.ingress[0].from[0].ipBlock.cidr'],
    ],
    [
      'broken CIDR',
      { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.1' } }] }] },
      ['KW-NP010 spec.ingress[0].from[0].ipBlock.cidr'],
    ],
    [
      'egress with DNS allowed is clean',
      {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              { namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } },
            ],
            ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }],
          },
        ],
      },
      [],
    ],
  ] as const)('%s', (_name, spec, expected) => {
    expect(codes({ ...base, policies: [policy('x', 'p', spec as NetworkPolicySpec)] })).toEqual(
      expected,
    );
  });

  it('finds exact duplicates and shadowed policies', () => {
    const wide = { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { port: 443 }] }] };
    const narrow = {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 80 }] }],
    };
    expect(
      codes({
        ...base,
        policies: [policy('x', 'a', wide), policy('x', 'b', wide), policy('x', 'c', narrow)],
      }),
    ).toEqual(['KW-NP008 spec', 'KW-NP009 spec']);
  });

  it('carries object, source, message and hint', () => {
    const state = netpolState({
      ...base,
      policies: [policy('x', 'p', { podSelector: { matchLabels: { app: 'nope' } } }, 7)],
    });
    expect(lintNetworkPolicies(state, compilePolicies(state))[0]).toEqual({
      code: 'KW-NP001',
      severity: 'warning',
      message: 'podSelector {app=nope} selects no pod in namespace x',
      object: { kind: 'NetworkPolicy', namespace: 'x', name: 'p' },
      path: 'spec.podSelector',
      source: { file: 'x-p.yaml', line: 7, column: 1 },
      hint: 'check the labels against the pods of this namespace (a policy only selects pods of its own namespace)',
    });
  });
});

it('reach conns agree with evaluateConnection on sampled ports', () => {
  const { reach, allowed } = setup({
    pods: [web('w1', '10.244.1.10'), client],
    policies: [
      policy('x', 'in', {
        podSelector: {},
        ingress: [
          {
            ports: [
              { port: 80, endPort: 90 },
              { protocol: 'UDP', port: 'http' },
            ],
          },
        ],
      }),
    ],
  });
  const conns = connsFromJson(reach().connections.find((c) => c.dst === 'x/w1[Pod]')?.conns ?? []);
  for (const [protocol, port] of [
    ['TCP', 79],
    ['TCP', 80],
    ['TCP', 90],
    ['TCP', 91],
    ['UDP', 8080],
  ] as const) {
    expect(connsAllow(conns, protocol, port)).toBe(allowed('y/client', 'x/w1', protocol, port));
  }
});
