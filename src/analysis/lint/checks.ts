/**
 * Lint checks over the NetworkState. Each check is a named predicate producing findings with a
 * stable id, severity, position and remedy.
 */
import type { Problem, Severity } from '../../api/problems.js';
import { labelsMatchSelector } from '../../controllers/workloads/index.js';
import type { NetworkState, PodState, ServiceState } from '../../model/types.js';
import { compileRoutes, lintIngresses } from '../../controllers/ingress/index.js';

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
  return state.pods.filter((p) => p.namespace === svc.namespace && labelsMatchSelector({ matchLabels: sel }, p.labels));
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
        .map((s) => finding(this, s, 'spec.type', `EXTERNAL-IP stays <pending>: ${s.pendingReason ?? 'nothing serves type LoadBalancer here'}; it still works as a NodePort (${s.ports.map((p) => p.nodePort).filter(Boolean).join(', ') || 'none allocated'})`, 'install MetalLB with an IPAddressPool and L2Advertisement, or use type NodePort / an Ingress'));
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
      const routing = compileRoutes(state);
      return [...routing.problems, ...lintIngresses(state, routing)];
    },
  },
];
