/**
 * Lint checks over the NetworkState. Each check is a named predicate producing findings with a
 * stable id, severity, position and remedy.
 */
import type { Problem, Severity } from '../../api/problems.js';
import { compileSelector } from '../../model/selectors.js';
import type { NetworkState, PodState, ServiceState } from '../../model/types.js';
import { lintIngresses } from '../../controllers/ingress/index.js';
import { lintCertificates } from '../../controllers/certmanager/index.js';
import { evaluateConnection } from '../../model/policy/index.js';
import { lintNetworkPolicies } from '../netpol-lint/index.js';

/** One lint check. */
export interface LintCheck {
  readonly id: string;
  readonly severity: Severity;
  readonly summary: string;
  readonly run: (state: NetworkState) => Problem[];
}

function finding(check: Pick<LintCheck, 'id' | 'severity'>, svc: ServiceState, path: string | undefined, message: string, hint: string, severity = check.severity): Problem {
  return { code: check.id, severity, message, hint, path, source: svc.source, object: { kind: 'Service', namespace: svc.namespace, name: svc.name } };
}

function selectedPods(state: NetworkState, svc: ServiceState): PodState[] {
  const sel = svc.selector;
  if (!sel) return [];
  const matcher = compileSelector({ matchLabels: sel });
  return state.pods.filter((p) => p.namespace === svc.namespace && matcher.matches(p.labels));
}

const userServices = (state: NetworkState): ServiceState[] => state.services.filter((s) => !s.addon);

/** The checks of the services area. */
export const serviceChecks: readonly LintCheck[] = [
  {
    id: 'KW-SVC001',
    severity: 'warning',
    summary: 'Service selects no pod',
    run(state) {
      return userServices(state)
        .filter((s) => s.selector && s.type !== 'ExternalName' && selectedPods(state, s).length === 0)
        .map((s) => {
          const near = state.pods.filter((p) => p.namespace === s.namespace && Object.keys(s.selector ?? {}).some((k) => p.labels[k] !== undefined));
          return finding(this, s, 'spec.selector', `selector ${Object.entries(s.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',')} matches no pod in namespace ${s.namespace}; the Service has no endpoints`, near.length ? `pods with these keys have: ${[...new Set(near.map((p) => Object.keys(s.selector ?? {}).map((k) => `${k}=${p.labels[k] ?? '<unset>'}`).join(',')))].slice(0, 3).join('; ')}` : 'check the labels of the pod template');
        });
    },
  },
  {
    id: 'KW-SVC002',
    severity: 'error',
    summary: 'targetPort matches no container port of a selected pod',
    run(state) {
      const out: Problem[] = [];
      for (const s of userServices(state)) {
        const pods = selectedPods(state, s);
        if (pods.length === 0) continue;
        s.ports.forEach((p, i) => {
          const tp = p.targetPort;
          if (typeof tp === 'string') {
            const missing = pods.filter((pod) => !pod.ports.some((c) => c.name === tp && c.protocol === p.protocol));
            if (missing.length) {
              out.push(finding(this, s, `spec.ports[${i}].targetPort`, `named targetPort "${tp}" (${p.protocol}) is defined by no container port of ${missing.length === pods.length ? 'any selected pod' : `${missing.length} of ${pods.length} selected pods (e.g. ${missing[0]?.name ?? ''})`}; those pods get no endpoint`, `name a container port "${tp}" or use a number`));
            }
          } else if (pods.every((pod) => pod.ports.length > 0 && !pod.ports.some((c) => c.containerPort === tp && c.protocol === p.protocol))) {
            const declared = [...new Set(pods.flatMap((pod) => pod.ports.map((c) => `${c.containerPort}/${c.protocol}`)))].join(', ');
            out.push(finding(this, s, `spec.ports[${i}].targetPort`, `targetPort ${tp}/${p.protocol} is declared by no selected pod (they declare ${declared})`, `did you mean targetPort ${pods[0]?.ports[0]?.containerPort ?? tp}?`, 'warning'));
          }
        });
      }
      return out;
    },
  },
  {
    id: 'KW-SVC003',
    severity: 'warning',
    summary: 'LoadBalancer Service will stay pending',
    run(state) {
      return userServices(state)
        .filter((s) => s.type === 'LoadBalancer' && s.loadBalancerIngress.length === 0)
        .map((s) => finding(this, s, 'spec.type', `EXTERNAL-IP stays <pending>: ${s.pendingReason ?? 'nothing serves type LoadBalancer here'}; it still works as a NodePort (${s.ports.map((p) => p.nodePort).filter(Boolean).join(', ') || 'none allocated'})`, state.cluster.loadBalancer.mode === 'servicelb' ? 'give the Service a port no other LoadBalancer Service uses, or route it through the Ingress controller (Traefik) instead' : 'install MetalLB with an IPAddressPool and L2Advertisement, or use type NodePort / an Ingress'));
    },
  },
  {
    id: 'KW-SVC006',
    severity: 'warning',
    summary: 'selector-less Service without Endpoints',
    run(state) {
      return userServices(state)
        .filter((s) => !s.selector && s.type !== 'ExternalName' && !state.endpointSlices.some((e) => e.namespace === s.namespace && e.service === s.name && e.endpoints.length > 0))
        .map((s) => finding(this, s, 'spec.selector', 'the Service has no selector and no Endpoints/EndpointSlice names it; it has no endpoints', `add a selector, or an Endpoints object named "${s.name}" (or an EndpointSlice labelled kubernetes.io/service-name: ${s.name})`));
    },
  },
];

/** The checks of the ingress area (annotations, classes, routing conflicts, TLS). */
export const ingressChecks: readonly LintCheck[] = [
  {
    id: 'KW-ING',
    severity: 'warning',
    summary: 'Ingress annotations, classes, routing conflicts and TLS hosts',
    run(state) {
      return [...state.routing.problems, ...lintIngresses(state, state.routing)];
    },
  },
];

/** The checks of the NetworkPolicy area. */
export const networkPolicyChecks: readonly LintCheck[] = [
  {
    id: 'KW-NP',
    severity: 'warning',
    summary: 'NetworkPolicies selecting nothing, peers matching nothing, no DNS allowance, ineffective ipBlocks, duplicates',
    run(state) {
      return [...state.policies.problems, ...lintNetworkPolicies(state, state.policies)];
    },
  },
];

/** The solver pod cert-manager starts for an HTTP-01 challenge (port 8089), as a pod of the model. */
function solverPod(namespace: string): PodState {
  return {
    namespace,
    name: 'cm-acme-http-solver',
    labels: { 'acme.cert-manager.io/http01-solver': 'true' },
    annotations: {},
    ip: '',
    node: '',
    hostNetwork: false,
    ready: true,
    terminating: false,
    phase: 'Running',
    containers: ['acmesolver'],
    ports: [{ name: 'http', containerPort: 8089, protocol: 'TCP', container: 'acmesolver' }],
    workload: { kind: 'Pod', name: 'cm-acme-http-solver' },
    addon: true,
  };
}

/** The checks of the cert-manager area. */
export const certificateChecks: readonly LintCheck[] = [
  {
    id: 'KW-CM',
    severity: 'warning',
    summary: 'TLS Secrets without issuer, missing issuers, certificates not covering their hosts, HTTP-01 challenges that cannot pass',
    run(state) {
      const cm = state.certManager;
      if (!cm) return [];
      return lintCertificates(cm, state.ingresses);
    },
  },
  {
    id: 'KW-CM005',
    severity: 'error',
    summary: 'HTTP-01 challenge path blocked by a NetworkPolicy',
    run(state) {
      const cm = state.certManager;
      if (!cm || cm.challenges.length === 0) return [];
      const compiled = state.policies;
      if (!compiled.enforced) return [];
      const out: Problem[] = [];
      const seen = new Set<string>();
      for (const ch of cm.challenges) {
        if (ch.type !== 'HTTP-01' || seen.has(ch.namespace)) continue;
        const ctrl = state.cluster.ingressControllers.find((c) => c.className === (ch.ingressClass ?? c.className));
        const ctrlPod = state.pods.find((p) => p.addon && p.labels['app.kubernetes.io/instance'] === ctrl?.name);
        if (!ctrlPod) continue;
        const v = evaluateConnection(compiled, ctrlPod, solverPod(ch.namespace), 'TCP', 8089);
        if (v.allowed) continue;
        seen.add(ch.namespace);
        const blocking = [...v.ingress.isolatedBy, ...v.egress.isolatedBy];
        const first = blocking[0];
        const policy = first ? state.networkPolicies.find((p) => p.namespace === first.namespace && p.name === first.name) : undefined;
        out.push({
          code: this.id,
          severity: this.severity,
          message: `the ACME HTTP-01 solver pod in namespace ${ch.namespace} (TCP/8089) cannot be reached by the ingress controller: ${v.detail}; the challenge for ${ch.dnsName} will never pass`,
          hint: `allow ingress to pods labelled acme.cert-manager.io/http01-solver=true on TCP 8089 from the ingress controller's namespace`,
          object: policy ? { kind: 'NetworkPolicy', namespace: policy.namespace, name: policy.name } : { kind: 'Certificate', namespace: ch.namespace, name: ch.order },
          source: policy?.source,
        });
      }
      return out;
    },
  },
];
