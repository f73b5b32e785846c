/**
 * The 48 upstream e2e NetworkPolicy reachability cases (conformance/netpol-e2e) on every plane:
 * each step's probes, from every listed pod to every other, go to the simulator, the L7 plane (TCP
 * only: its pods answer nothing else) and the Linux plane (no SCTP: no kernel module, no Node
 * sockets). The nine e2e pods all exist on every step, so one Linux cluster serves every case, each
 * step an `apply` that rewrites the nftables sets and chains; pods a case does not list are never
 * probed. `kwire reach` (computeReach at pod granularity) must give the same truth table.
 *
 * Cases 34–36 select pods with ipBlocks (`<IP of y/b>/32`). DESIGN.md says an ipBlock never selects
 * an in-cluster pod, so they run with the compiler's `ipBlockSelectsPods` (upstream/Calico
 * behaviour), then again under kwire's default, where x/a's egress reaches no pod at all.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicySpec, Protocol, StringMap } from '../../src/api/types.js';
import { compileNetwork } from '../../src/controllers/index.js';
import { connsAllow, connsFromJson } from '../../src/model/policy/index.js';
import type { NetworkPolicyState, NetworkState } from '../../src/model/types.js';
import { computeReach } from '../../src/sim/reach/index.js';
import { conformancePath } from '../support/conformance.js';
import { e2ePodIp, e2eState } from '../support/netpol-state.js';
import { conformance, l7Factory, linuxFactory, simFactory, type Check } from './harness.js';

type Op = readonly ['allow' | 'deny', string, string];

interface PolicyObject {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: NetworkPolicySpec;
}

interface Step {
  readonly apply?: readonly PolicyObject[];
  readonly update?: readonly PolicyObject[];
  readonly set_namespace_labels?: Readonly<Record<string, StringMap>>;
  readonly set_pod_labels?: Readonly<Record<string, StringMap>>;
  readonly delete_all_policies?: boolean;
  readonly probes: readonly { readonly protocol: Protocol; readonly port: number; readonly expect: readonly Op[] }[];
}

interface Case {
  readonly id: number;
  readonly name: string;
  readonly pods: readonly string[];
  readonly steps: readonly Step[];
}

const data = JSON.parse(readFileSync(conformancePath('netpol-e2e', 'e2e_netpol_cases.json'), 'utf8')) as { readonly count: number; readonly cases: readonly Case[] };

const ALL_PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];
/** Cases whose ipBlocks target pod IPs: run with upstream semantics (see the file comment). */
const IPBLOCK_SELECTS_PODS = new Set([34, 35, 36]);

function substitute(text: string): string {
  return text
    .replace(/<IP of (\w\/\w)>/g, (_, id: string) => e2ePodIp(id))
    .replace(/<the \/4 containing IP of (\w\/\w)>/g, (_, id: string) => `${String(Number(e2ePodIp(id).split('.')[0]) & 0xf0)}.0.0.0/4`);
}

function toPolicy(obj: PolicyObject): NetworkPolicyState {
  return { namespace: obj.metadata.namespace, name: obj.metadata.name, spec: JSON.parse(substitute(JSON.stringify(obj.spec))) as NetworkPolicySpec };
}

function matches(pattern: string, pod: string): boolean {
  return pattern === '*' || (pattern.endsWith('/*') ? pod.startsWith(pattern.slice(0, -1)) : pattern === pod);
}

/** The expected truth: every ordered pair allowed, then the ops in order. */
function truthOf(pods: readonly string[], ops: readonly Op[]): Record<string, boolean> {
  const truth: Record<string, boolean> = {};
  for (const from of pods) for (const to of pods) if (from !== to) truth[`${from}->${to}`] = true;
  for (const [verdict, f, t] of ops)
    for (const from of pods) for (const to of pods) if (from !== to && matches(f, from) && matches(t, to)) truth[`${from}->${to}`] = verdict === 'allow';
  return truth;
}

/** What `kwire reach` says of the listed pairs, for one protocol and port. */
function reachOf(state: NetworkState, pods: readonly string[], protocol: Protocol, port: number): Record<string, boolean> {
  const table: Record<string, boolean> = {};
  for (const from of pods) for (const to of pods) if (from !== to) table[`${from}->${to}`] = false;
  for (const conn of computeReach(state, state.policies, { granularity: 'pod' }).connections) {
    const key = `${conn.src.replace('[Pod]', '')}->${conn.dst.replace('[Pod]', '')}`;
    if (key in table) table[key] = connsAllow(connsFromJson(conn.conns), protocol, port);
  }
  return table;
}

const CLUSTER = 'cf-netpol';
const harness = conformance({
  suite: 'netpol-e2e',
  planes: [simFactory(), l7Factory(), linuxFactory({ cluster: CLUSTER, ingress: false, timeoutMs: 400 })],
  allowedSkips: { l7: /TCP only/, linux: /^SCTP/ },
});

beforeAll(async () => {
  await harness.start(e2eState(ALL_PODS, []));
});

afterAll(async () => {
  for (const line of harness.summary()) console.info(line);
  await harness.stop();
});

async function runCase(c: Case, ipBlockSelectsPods: boolean, extraOps: readonly Op[] = []): Promise<void> {
  const policies = new Map<string, NetworkPolicyState>();
  const nsLabels: Record<string, StringMap> = {};
  const podLabels: Record<string, StringMap> = {};
  const pairs = c.pods.flatMap((from) => c.pods.filter((to) => to !== from).map((to) => [from, to] as const));
  for (const [index, step] of c.steps.entries()) {
    for (const obj of [...(step.apply ?? []), ...(step.update ?? [])]) policies.set(`${obj.metadata.namespace}/${obj.metadata.name}`, toPolicy(obj));
    for (const [ns, labels] of Object.entries(step.set_namespace_labels ?? {})) nsLabels[ns] = { ...nsLabels[ns], ...labels };
    for (const [pod, labels] of Object.entries(step.set_pod_labels ?? {})) podLabels[pod] = { ...podLabels[pod], ...labels };
    if (step.delete_all_policies === true) policies.clear();
    const state = compileNetwork(e2eState(ALL_PODS, [...policies.values()], nsLabels, podLabels), { ipBlockSelectsPods });
    const checks: Check[] = step.probes.flatMap((probe) => {
      const truth = truthOf(c.pods, [...probe.expect, ...extraOps]);
      return pairs.map(([from, to]): Check => {
        const [fromNs = '', fromName = ''] = from.split('/');
        const [toNs = '', toName = ''] = to.split('/');
        return {
          connection: { from: { kind: 'pod', namespace: fromNs, name: fromName }, to: { kind: 'pod', namespace: toNs, name: toName, port: probe.port }, protocol: probe.protocol },
          expected: truth[`${from}->${to}`] === true ? { outcome: 'delivered', pod: to } : { outcome: 'dropped' },
        };
      });
    });
    const label = `#${String(c.id)} step ${String(index + 1)}${ipBlockSelectsPods ? ' (ipBlockSelectsPods)' : ''}`;
    await harness.run({ label, state, checks });
    for (const probe of step.probes) {
      const where = `${label} ${probe.protocol}/${String(probe.port)}: kwire reach`;
      expect(reachOf(state, c.pods, probe.protocol, probe.port), where).toEqual(truthOf(c.pods, [...probe.expect, ...extraOps]));
    }
  }
}

describe('upstream e2e NetworkPolicy cases on every plane', () => {
  it('has all 48 cases', () => {
    expect(data.cases).toHaveLength(48);
    expect(data.count).toBe(48);
  });

  it.each(data.cases.map((c) => [c.id, c.name, c] as const))('#%i %s', async (id, _name, c) => {
    await runCase(c, IPBLOCK_SELECTS_PODS.has(id));
  });

  it.each(data.cases.filter((c) => IPBLOCK_SELECTS_PODS.has(c.id)).map((c) => [c.id, c] as const))(
    '#%i under kwire default (ipBlocks never select pods): x/a egress reaches no pod',
    async (_id, c) => {
      await runCase(c, false, [['deny', 'x/a', '*']]);
    },
  );

  it('was answered by every plane that runs here', () => {
    harness.expectEveryPlaneAnswered();
  });
});
