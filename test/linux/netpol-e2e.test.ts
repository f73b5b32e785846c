/**
 * Differential conformance of the Linux plane: the 48 upstream e2e NetworkPolicy cases run against
 * real network namespaces (a connect from the source pod's namespace to the destination pod) and
 * against the simulator (`evaluateConnection`); both must agree on every probe and with the
 * expected truth table. One topology (the nine e2e pods) serves every case: each step is an
 * `apply` that only rewrites the nftables sets and chains.
 *
 * Cases 34–36 select pods with ipBlocks: both planes run them with `ipBlockSelectsPods` (upstream
 * semantics), then again under kwire's default (an ipBlock never selects a pod), where both deny
 * x/a's egress to every pod. SCTP probes are checked on the simulator only: the pod agent is Node,
 * which has no SCTP sockets (and this kernel has no SCTP either); each skip is printed.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkPolicySpec, Protocol, StringMap } from '../../src/api/types.js';
import { compileNetwork } from '../../src/controllers/index.js';
import { evaluateConnection } from '../../src/model/policy/index.js';
import { linuxDown, linuxUp, type LinuxPlane, type Probe } from '../../src/linux/index.js';
import type { NetworkPolicyState, NetworkState } from '../../src/model/types.js';
import { e2ePodIp, e2eState } from '../support/netpol-state.js';
import { agentDir, privilegedSkipReason } from './support.js';

type Op = readonly ['allow' | 'deny', string, string];

interface Step {
  readonly apply?: readonly PolicyObject[];
  readonly update?: readonly PolicyObject[];
  readonly set_namespace_labels?: Readonly<Record<string, StringMap>>;
  readonly set_pod_labels?: Readonly<Record<string, StringMap>>;
  readonly delete_all_policies?: boolean;
  readonly probes: readonly { readonly protocol: Protocol; readonly port: number; readonly expect: readonly Op[] }[];
}

interface PolicyObject {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: NetworkPolicySpec;
}

interface Case {
  readonly id: number;
  readonly name: string;
  readonly pods: readonly string[];
  readonly steps: readonly Step[];
}

const data = JSON.parse(readFileSync(new URL('../../../shared/conformance/netpol-e2e/e2e_netpol_cases.json', import.meta.url), 'utf8')) as { readonly cases: readonly Case[] };

const ALL_PODS = ['x/a', 'x/b', 'x/c', 'y/a', 'y/b', 'y/c', 'z/a', 'z/b', 'z/c'];
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

function expected(pods: readonly string[], ops: readonly Op[]): Record<string, boolean> {
  const truth: Record<string, boolean> = {};
  for (const from of pods) for (const to of pods) if (from !== to) truth[`${from}->${to}`] = true;
  for (const [verdict, f, t] of ops)
    for (const from of pods) for (const to of pods) if (from !== to && matches(f, from) && matches(t, to)) truth[`${from}->${to}`] = verdict === 'allow';
  return truth;
}

const skip = privilegedSkipReason();
if (skip) console.warn(`[linux plane] netpol-e2e skipped: ${skip}`);
const sctpSkips: string[] = [];

(skip ? describe.skip : describe)('upstream e2e NetworkPolicy cases: Linux plane vs simulator', () => {
  let plane: LinuxPlane;

  beforeAll(async () => {
    plane = await linuxUp({ ...e2eState(ALL_PODS, []), cluster: { ...e2eState(ALL_PODS, []).cluster, name: 'e2e' } }, { agentDir: agentDir() });
  });

  afterAll(async () => {
    await linuxDown('e2e');
    if (sctpSkips.length > 0) console.warn(`[linux plane] SCTP probes checked on the simulator only (no SCTP sockets in Node): ${sctpSkips.join(', ')}`);
  });

  async function runCase(c: Case, ipBlockSelectsPods: boolean, extraOps: readonly Op[] = []): Promise<void> {
    const policies = new Map<string, NetworkPolicyState>();
    const nsLabels: Record<string, StringMap> = {};
    const podLabels: Record<string, StringMap> = {};
    for (const [stepIndex, step] of c.steps.entries()) {
      for (const obj of [...(step.apply ?? []), ...(step.update ?? [])]) policies.set(`${obj.metadata.namespace}/${obj.metadata.name}`, toPolicy(obj));
      for (const [ns, labels] of Object.entries(step.set_namespace_labels ?? {})) nsLabels[ns] = { ...nsLabels[ns], ...labels };
      for (const [pod, labels] of Object.entries(step.set_pod_labels ?? {})) podLabels[pod] = { ...podLabels[pod], ...labels };
      if (step.delete_all_policies === true) policies.clear();
      const base = e2eState(ALL_PODS, [...policies.values()], nsLabels, podLabels);
      const state: NetworkState = compileNetwork({ ...base, cluster: { ...base.cluster, name: 'e2e' } }, { ipBlockSelectsPods });
      await plane.apply(state);
      const compiled = state.policies;
      const pod = (id: string) => state.pods.find((p) => `${p.namespace}/${p.name}` === id);
      const pairs = c.pods.flatMap((from) => c.pods.filter((to) => to !== from).map((to) => [from, to] as const));
      const probes: Probe[] = [];
      for (const probe of step.probes) {
        if (probe.protocol === 'SCTP') sctpSkips.push(`#${String(c.id)} step ${String(stepIndex + 1)}`);
        for (const [from, to] of pairs) probes.push({ from: { pod: from }, to: e2ePodIp(to), port: probe.port, protocol: probe.protocol });
      }
      const outcomes = await plane.rawProbe(probes);
      let k = 0;
      for (const probe of step.probes) {
        const truth = expected(c.pods, [...probe.expect, ...extraOps]);
        const sim: Record<string, boolean> = {};
        const linux: Record<string, boolean> = {};
        for (const [from, to] of pairs) {
          const src = pod(from);
          const dst = pod(to);
          if (!src || !dst) throw new Error(`no pod ${from} or ${to}`);
          sim[`${from}->${to}`] = evaluateConnection(compiled, src, dst, probe.protocol, probe.port).allowed;
          const outcome = outcomes[k++];
          const reached = outcome?.connected === true && outcome.reply === to;
          linux[`${from}->${to}`] = probe.protocol === 'SCTP' ? (sim[`${from}->${to}`] ?? false) : reached;
        }
        const where = { case: c.id, step: stepIndex + 1, probe: `${probe.protocol}/${String(probe.port)}` };
        expect({ ...where, plane: 'simulator', table: sim }).toEqual({ ...where, plane: 'simulator', table: truth });
        expect({ ...where, plane: 'linux', table: linux }).toEqual({ ...where, plane: 'linux', table: truth });
      }
    }
  }

  it.each(data.cases.map((c) => [c.id, c.name, c] as const))('#%i %s', async (id, _name, c) => {
    await runCase(c, IPBLOCK_SELECTS_PODS.has(id));
  });

  it.each(data.cases.filter((c) => IPBLOCK_SELECTS_PODS.has(c.id)).map((c) => [c.id, c] as const))(
    '#%i under kwire default (ipBlocks never select pods): both planes deny x/a egress to every pod',
    async (_id, c) => {
      await runCase(c, false, [['deny', 'x/a', '*']]);
    },
  );
});
