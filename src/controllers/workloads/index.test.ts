import { describe, expect, it } from 'vitest';
import { deployment, docs, stateOf } from '../../../test/support/state.js';

const workload = (kind: string, name: string, spec: Record<string, unknown>, apiVersion = 'apps/v1') =>
  JSON.stringify({ apiVersion, kind, metadata: { name }, spec });
const template = (labels: Record<string, string>) => ({ metadata: { labels }, spec: { containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80 }] }] } });

describe('workloads to pods', () => {
  it('names a Deployment\'s pods after its ReplicaSet and spreads them over the workers', () => {
    const state = stateOf(deployment('web', { replicas: 4 }));
    const pods = state.pods.filter((p) => p.workload.name === 'web');
    expect(pods).toHaveLength(4);
    for (const p of pods) {
      expect(p.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(p.owner?.kind).toBe('ReplicaSet');
      expect(p.name.startsWith(`${p.owner?.name ?? ''}-`)).toBe(true);
      expect(p.labels['pod-template-hash']).toBe(p.owner?.name.split('-').pop());
    }
    expect(pods.map((p) => p.node).sort()).toEqual(['worker-1', 'worker-1', 'worker-2', 'worker-2']);
  });

  it('gives StatefulSet pods ordinal names', () => {
    const state = stateOf(workload('StatefulSet', 'db', { replicas: 3, serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template({ app: 'db' }) }));
    expect(state.pods.filter((p) => p.workload.kind === 'StatefulSet').map((p) => p.name)).toEqual(['db-0', 'db-1', 'db-2']);
  });

  it('runs one DaemonSet pod per eligible node (the control plane is tainted)', () => {
    const state = stateOf(workload('DaemonSet', 'agent', { selector: { matchLabels: { app: 'agent' } }, template: template({ app: 'agent' }) }));
    expect(state.pods.filter((p) => p.workload.name === 'agent').map((p) => p.node).sort()).toEqual(['worker-1', 'worker-2']);
  });

  it('makes Job, CronJob and ReplicationController pods', () => {
    const state = stateOf(
      docs(
        workload('Job', 'once', { template: template({ job: 'once' }) }, 'batch/v1'),
        workload('CronJob', 'nightly', { schedule: '0 0 * * *', jobTemplate: { spec: { template: template({ job: 'nightly' }) } } }, 'batch/v1'),
        workload('ReplicationController', 'old', { replicas: 2, selector: { app: 'old' }, template: template({ app: 'old' }) }, 'v1'),
      ),
    );
    const by = (name: string) => state.pods.filter((p) => p.workload.name === name);
    expect(by('once')).toHaveLength(1);
    expect(by('once')[0]?.labels['batch.kubernetes.io/job-name']).toBe('once');
    expect(by('nightly')[0]?.owner?.kind).toBe('Job');
    expect(by('old')).toHaveLength(2);
  });

  it('honours nodeName, nodeSelector and node affinity', () => {
    const pinned = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'pinned' }, spec: { nodeName: 'control-plane', containers: [{ name: 'c' }] } });
    const zoned = deployment('zoned', { replicas: 3, nodeSelector: { 'topology.kubernetes.io/zone': 'zone-b' } });
    const affine = workload('Deployment', 'affine', {
      selector: { matchLabels: { app: 'affine' } },
      template: { metadata: { labels: { app: 'affine' } }, spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1'] }] }] } } }, containers: [{ name: 'c' }] } },
    });
    const state = stateOf(docs(pinned, zoned, affine));
    expect(state.pods.find((p) => p.name === 'pinned')?.node).toBe('control-plane');
    expect(new Set(state.pods.filter((p) => p.workload.name === 'zoned').map((p) => p.node))).toEqual(new Set(['worker-2']));
    expect(state.pods.find((p) => p.workload.name === 'affine')?.node).toBe('worker-1');
  });

  it('leaves a pod Pending when no node matches its nodeSelector', () => {
    const state = stateOf(deployment('nowhere', { nodeSelector: { disk: 'ssd' } }));
    const pod = state.pods.find((p) => p.workload.name === 'nowhere');
    expect(pod?.phase).toBe('Pending');
    expect(pod?.ip).toBe('');
    expect(state.problems.some((p) => p.code === 'KW-SCHED002')).toBe(true);
  });

  it('addresses pods from their node\'s pod CIDR, keeps status.podIP, and uses the node IP for hostNetwork', () => {
    const fixed = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'fixed' }, spec: { nodeName: 'worker-1', containers: [{ name: 'c' }] }, status: { podIP: '10.244.1.2' } });
    const host = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'host' }, spec: { nodeName: 'worker-2', hostNetwork: true, containers: [{ name: 'c' }] } });
    const state = stateOf(docs(fixed, host, deployment('web', { replicas: 2 })));
    expect(state.pods.find((p) => p.name === 'fixed')?.ip).toBe('10.244.1.2');
    expect(state.pods.find((p) => p.name === 'host')?.ip).toBe('172.18.0.4');
    const ips = state.pods.filter((p) => !p.hostNetwork).map((p) => p.ip);
    expect(new Set(ips).size).toBe(ips.length);
    for (const p of state.pods.filter((x) => !x.hostNetwork)) {
      const node = state.nodes.find((n) => n.name === p.node);
      expect(p.ip.split('.').slice(0, 3).join('.')).toBe(node?.podCIDR.split('.').slice(0, 3).join('.'));
    }
  });

  it('marks pods not ready from the kwire.dev/ready annotation or status conditions', () => {
    const t = { metadata: { labels: { app: 'slow' }, annotations: { 'kwire.dev/ready': 'false' } }, spec: { containers: [{ name: 'c' }] } };
    const state = stateOf(workload('Deployment', 'slow', { selector: { matchLabels: { app: 'slow' } }, template: t }));
    expect(state.pods.find((p) => p.workload.name === 'slow')?.ready).toBe(false);
  });

  it('gives nodes per-node /24 pod CIDRs and 172.18.0.0/16 addresses', () => {
    const state = stateOf('');
    expect(state.nodes.map((n) => [n.name, n.ip, n.podCIDR])).toEqual([
      ['control-plane', '172.18.0.2', '10.244.0.0/24'],
      ['worker-1', '172.18.0.3', '10.244.1.0/24'],
      ['worker-2', '172.18.0.4', '10.244.2.0/24'],
    ]);
  });

  it('reads nodes, CIDRs and the CNI from a Cluster object', () => {
    const cluster = JSON.stringify({ apiVersion: 'kwire.dev/v1alpha1', kind: 'Cluster', metadata: { name: 'lab' }, spec: { nodes: [{ name: 'a' }, { name: 'b', labels: { disk: 'ssd' } }], podCIDR: '10.200.0.0/16', serviceCIDR: '10.100.0.0/16', cni: { mode: 'vxlan', networkPolicy: 'ignored' } } });
    const state = stateOf(cluster);
    expect(state.cluster.name).toBe('lab');
    expect(state.nodes.map((n) => n.podCIDR)).toEqual(['10.200.0.0/24', '10.200.1.0/24']);
    expect(state.cluster.cni).toEqual({ mode: 'vxlan', networkPolicy: 'ignored', name: 'flannel' });
    expect(state.services.find((s) => s.name === 'kube-dns')?.clusterIP).toBe('10.100.0.10');
  });
});
