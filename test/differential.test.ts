/**
 * The differential suite (src/check): the generator and the probes (deterministic, loading cleanly,
 * covering every profile, Service type and probe kind), the runner's minimization against a fake
 * kernel plane, and — as root, from the compiled dist/ — a fixed set of clusters asked of the
 * simulator and the Linux plane, which must agree on every probe.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectionOf as cliConnection } from '../src/cli/trace/index.js';
import { generateCluster, GeneratorError, linuxStarter, loadManifests, manifestsYaml, mixSeed, PROBE_KINDS, probesOf, runDifferential, traceArgs, createRandom, type KernelPlane, type Manifest, type PlaneStarter, type ProbeKind } from '../src/check/index.js';
import type { Connection, Probed } from '../src/model/dataplane.js';
import type { NetworkState } from '../src/model/types.js';
import { probedOf } from '../src/sim/dataplane.js';
import { createTracer } from '../src/sim/trace/index.js';
import { privilegedSkipReason } from './linux/support.js';

/** The clusters every test reads: two seeds, 30 clusters each. */
const SAMPLE = [1, 2].flatMap((seed) => Array.from({ length: 30 }, (_, index) => generateCluster(seed, index)));

function specOf(m: Manifest): Record<string, unknown> {
  return (m.spec ?? {}) as Record<string, unknown>;
}

describe('the seeded random source', () => {
  it('gives the same stream for the same seed and another for another seed', () => {
    const draw = (seed: number): number[] => {
      const r = createRandom(seed);
      return Array.from({ length: 8 }, () => r.int(0, 1000));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });
});

describe('generated clusters', () => {
  it('are the same for the same seed and index, and differ between indexes', () => {
    expect(manifestsYaml(generateCluster(5, 3).manifests)).toBe(manifestsYaml(generateCluster(5, 3).manifests));
    expect(generateCluster(5, 3).manifests).toEqual(generateCluster(5, 3).manifests);
    expect(manifestsYaml(generateCluster(5, 3).manifests)).not.toBe(manifestsYaml(generateCluster(5, 4).manifests));
    expect(manifestsYaml(generateCluster(5, 3).manifests)).not.toBe(manifestsYaml(generateCluster(6, 3).manifests));
  });

  it('load without errors, through the store, as the CLI loads them', () => {
    for (const c of SAMPLE) {
      const loaded = loadManifests(c.manifests);
      expect({ cluster: `${String(c.seed)}-${String(c.index)}`, errors: loaded.errors?.map((e) => `${e.code}: ${e.message}`) ?? [] }).toEqual({ cluster: `${String(c.seed)}-${String(c.index)}`, errors: [] });
    }
  });

  it('cover every profile, CNI mode, policy enforcement, Service type and traffic policy, MetalLB L2 and BGP, Ingress TLS and NetworkPolicy rule kind', () => {
    const all = SAMPLE.flatMap((c) => c.manifests);
    const clusters = all.filter((m) => m.kind === 'Cluster').map(specOf);
    expect(new Set(clusters.map((s) => s.profile))).toEqual(new Set(['kwire', 'cloud', 'k3s', 'minikube']));
    expect(new Set(clusters.map((s) => (s.cni as { mode: string }).mode))).toEqual(new Set(['routed', 'vxlan', 'bridge']));
    expect(new Set(clusters.map((s) => (s.cni as { networkPolicy: string }).networkPolicy))).toEqual(new Set(['enforced', 'ignored']));
    const services = all.filter((m) => m.kind === 'Service').map(specOf);
    expect(new Set(services.map((s) => (s.clusterIP === 'None' ? 'headless' : ((s.type as string | undefined) ?? 'ClusterIP'))))).toEqual(new Set(['ClusterIP', 'NodePort', 'LoadBalancer', 'headless']));
    expect(services.some((s) => s.externalTrafficPolicy === 'Local')).toBe(true);
    expect(services.some((s) => s.internalTrafficPolicy === 'Local')).toBe(true);
    expect(services.some((s) => s.sessionAffinity === 'ClientIP')).toBe(true);
    expect(services.some((s) => (s.selector as Record<string, string>).app === 'nobody')).toBe(true);
    expect(services.some((s) => (s.ports as { protocol: string }[]).some((p) => p.protocol === 'UDP'))).toBe(true);
    expect(all.some((m) => m.kind === 'L2Advertisement')).toBe(true);
    expect(all.filter((m) => m.kind === 'BGPPeer').map(specOf)).toContainEqual(expect.objectContaining({ myASN: 64513, peerASN: 64512, peerAddress: '172.18.255.254' }));
    expect(all.some((m) => m.kind === 'BGPAdvertisement' && (specOf(m).communities as string[]).length > 0)).toBe(true);
    const ingresses = all.filter((m) => m.kind === 'Ingress');
    expect(ingresses.some((m) => m.metadata.annotations?.['cert-manager.io/issuer'] === 'selfsigned')).toBe(true);
    expect(ingresses.some((m) => specOf(m).tls !== undefined && m.metadata.annotations?.['cert-manager.io/issuer'] === undefined)).toBe(true);
    const paths = ingresses.flatMap((m) => (specOf(m).rules as { http: { paths: { pathType: string }[] } }[]).flatMap((r) => r.http.paths.map((p) => p.pathType)));
    expect(new Set(paths)).toEqual(new Set(['Prefix', 'Exact']));
    const policies = JSON.stringify(all.filter((m) => m.kind === 'NetworkPolicy'));
    for (const field of ['"podSelector"', '"namespaceSelector"', '"ipBlock"', '"except"', '"ports"', '"egress"', '"ingress"', '"k8s-app":"kube-dns"']) expect(policies).toContain(field);
    const egressWithoutDns = all.filter((m) => m.kind === 'NetworkPolicy' && specOf(m).egress !== undefined && !JSON.stringify(m).includes('kube-dns'));
    expect(egressWithoutDns.length).toBeGreaterThan(0);
  });
});

describe('probes', () => {
  const states = SAMPLE.map((c) => ({ c, state: loadManifests(c.manifests).state })).filter((x): x is { c: (typeof SAMPLE)[number]; state: NetworkState } => x.state !== undefined);

  it('are deterministic, capped, and cover every kind across the sample', () => {
    const seen = new Set<ProbeKind>();
    for (const { c, state } of states) {
      const probes = probesOf(state, { seed: mixSeed(c.seed, c.index) });
      expect(probesOf(state, { seed: mixSeed(c.seed, c.index) })).toEqual(probes);
      expect(probes.length).toBeLessThanOrEqual(40);
      for (const p of probes) seen.add(p.spec.kind);
    }
    expect([...seen].sort()).toEqual([...PROBE_KINDS].sort());
  });

  it('are traced by the simulator without errors, and their `kwire trace` arguments parse back to the same connection', () => {
    for (const { c, state } of states.slice(0, 20)) {
      const tracer = createTracer(state);
      for (const p of probesOf(state, { seed: mixSeed(c.seed, c.index) })) {
        expect(tracer.traceAll(p.connection).length).toBeGreaterThan(0);
        const args = traceArgs(p.connection);
        const protocol = args.includes('--protocol') ? (args[args.indexOf('--protocol') + 1] as 'UDP') : undefined;
        expect(cliConnection(args[0] ?? '', args[1] ?? '', protocol ? { protocol } : {})).toEqual(p.connection);
      }
    }
  });
});

/** A kernel plane made of the simulator: it answers what the trace says, except where `twist` changes it. */
function fakeStarter(twist: (c: Connection, p: Probed) => Probed): { start: PlaneStarter; applied: () => number } {
  let applied = 0;
  const start: PlaneStarter = (first) => {
    let state = first;
    const plane: KernelPlane = {
      apply: (next: NetworkState) => {
        applied++;
        state = next;
        return Promise.resolve();
      },
      settle: () => Promise.resolve(),
      probe: (connections) => {
        const tracer = createTracer(state);
        return Promise.resolve(
          connections.map((c) => {
            const t = tracer.trace(c);
            const seen: Probed = t.response ? { plane: 'linux', verdict: 'answered', status: t.response.status, hops: [] } : { ...probedOf(t, []), plane: 'linux', hops: [] };
            return twist(c, seen);
          }),
        );
      },
      down: () => Promise.resolve(),
    };
    return Promise.resolve(plane);
  };
  return { start, applied: () => applied };
}

const quiet = { info: () => undefined, warn: () => undefined };

describe('the runner, against a fake kernel plane', () => {
  it('finds no disagreement when the kernel answers what the simulator traces', async () => {
    const fake = fakeStarter((_c, p) => p);
    const out = mkdtempSync(join(tmpdir(), 'kwire-diff-'));
    try {
      const result = await runDifferential({ seed: 3, clusters: 4, out, start: fake.start, logger: quiet });
      expect(result.disagreements.map((d) => `${d.shape}: ${d.why}`)).toEqual([]);
      expect(result.clusters).toBe(4);
      expect(result.probes).toBeGreaterThan(100);
      expect(fake.applied()).toBe(3);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('stops at the first disagreement and writes a minimal reproducer: the manifests it needs, the probe as `kwire trace`, both planes', async () => {
    const isExternalNodePort = (c: Connection): boolean => c.from.kind === 'external' && c.to.kind === 'ip' && c.to.port >= 30000;
    const fake = fakeStarter((c, p) => (isExternalNodePort(c) && p.verdict === 'delivered' ? { ...p, seenClient: '192.0.2.99' } : p));
    const out = mkdtempSync(join(tmpdir(), 'kwire-diff-'));
    try {
      const result = await runDifferential({ seed: 1, clusters: 20, out, start: fake.start, logger: quiet });
      const first = result.disagreements[0];
      expect(first?.kind).toBe('external-to-nodeport');
      expect(first?.shape).toBe('external-to-nodeport: kernel delivered (another client address); simulator delivered');
      expect(result.clusters).toBe((first?.index ?? 0) + 1);
      const folder = first?.folder ?? '';
      expect(folder).toBe(join(out, `1-${String(first?.index)}`));
      const manifests = readFileSync(join(folder, 'manifests.yaml'), 'utf8');
      const kinds = manifests.match(/^kind: \w+/gm) ?? [];
      expect(kinds[0]).toBe('kind: Cluster');
      expect(kinds).toContain('kind: Service');
      expect(new Set(kinds)).toEqual(new Set(['kind: Cluster', 'kind: Deployment', 'kind: Service']));
      expect(kinds.length).toBeLessThan(generateCluster(1, first?.index ?? 0).manifests.length / 2);
      const probe = readFileSync(join(folder, 'probe.txt'), 'utf8');
      expect(probe).toMatch(/^kwire trace -f manifests\.yaml (external|ip\/192\.0\.2\.50) 172\.18\.0\.\d+:3\d{4}( --protocol UDP)?\n$/);
      const planes = JSON.parse(readFileSync(join(folder, 'planes.json'), 'utf8')) as { reproduced: boolean; kernel: Probed; simulator: { allows: unknown[] }; objects: { written: number } };
      expect(planes.reproduced).toBe(true);
      expect(planes.objects.written).toBe(kinds.length);
      expect(planes.kernel.seenClient).toBe('192.0.2.99');
      expect(planes.simulator.allows.length).toBeGreaterThan(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('reports a generated cluster that does not load as a bug of the generator', () => {
    expect(new GeneratorError('x').code).toBe('EGENERATOR');
  });
});

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const AGENTS = join(DIST, 'linux');
const PROXY = join(DIST, 'cli', 'up', 'proxy-worker.js');
const distMissing = ['probe-agent.js', 'echo-agent.js'].some((f) => !existsSync(join(AGENTS, f))) || !existsSync(PROXY) ? 'dist/ is not built (run npm run build): the Linux plane runs the compiled agents and proxy' : undefined;
const skip = privilegedSkipReason() ?? distMissing;
if (skip) console.warn(`[differential] Linux plane run skipped: ${skip}`);

/** The fixed runs: between them, every probe kind (checked below). Seed 2's first three clusters already cover them all. */
const FIXED = [
  { seed: 2, first: 0, clusters: 3 },
  { seed: 12, first: 0, clusters: 3 },
] as const;

(skip ? describe.skip : describe)('the simulator and the Linux plane agree (root)', () => {
  it(`on ${FIXED.map((f) => `seed ${String(f.seed)} clusters ${String(f.first)}–${String(f.first + f.clusters - 1)}`).join(', ')}, every probe kind exercised`, { timeout: 600_000 }, async () => {
    const out = mkdtempSync(join(tmpdir(), 'kwire-differential-'));
    const log: string[] = [];
    const logger = { info: (m: string) => log.push(m), warn: (m: string) => log.push(m) };
    const answered = new Map<ProbeKind, number>(PROBE_KINDS.map((k) => [k, 0]));
    for (const run of FIXED) {
      const result = await runDifferential({ ...run, out, clusterName: 'diff-test', noMinimize: true, start: linuxStarter({ agentDir: AGENTS, proxyEntry: PROXY, timeoutMs: 1500, logger }), logger });
      const first = result.disagreements[0];
      const rerun = `npm run differential -- --seed ${String(run.seed)} --first ${String(first?.index ?? 0)} --clusters 1`;
      expect(first ? `${first.shape}\n${first.why}\nwhole cluster: ${first.folder ?? out}\nminimize with: ${rerun}\n${log.join('\n')}` : 'no disagreement').toBe('no disagreement');
      for (const k of PROBE_KINDS) answered.set(k, (answered.get(k) ?? 0) + result.byKind[k]);
    }
    expect(PROBE_KINDS.filter((k) => answered.get(k) === 0)).toEqual([]);
    rmSync(out, { recursive: true, force: true });
  });
});
