/**
 * The ingress controller's part of a trace: the certificate served for the SNI, the rule that
 * matched, the controller's own choice of endpoint and its connection to the backend pod.
 */
import { certificateForHost, DEFAULT_CERTIFICATE, labAcmeNote } from '../../model/certificates.js';
import { chooseEndpoint, selectEndpoints, servicePort } from '../../model/endpoints.js';
import { routeRequest, tlsFor } from '../../model/routing/index.js';
import type { ServedCertificateRef, Trace } from '../../model/dataplane.js';
import type { PodState } from '../../model/types.js';
import type { Ctx, Walk } from './context.js';
import { judge } from './policy.js';

/** An HTTP request as the trace follows it. */
export interface HttpRequest {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The certificate a controller serves for an SNI host: the TLS Secret's, or its default one. */
function servedCertificate(ctx: Ctx, walk: Walk, controller: string, ctrlPod: PodState, host: string): ServedCertificateRef {
  const tls = tlsFor(ctx.state.routing, controller, host);
  const fallback = (why: string, namespace: string): ServedCertificateRef => {
    walk.add({ component: 'tls', node: ctrlPod.node, action: `SNI ${host}: the controller's default certificate (${DEFAULT_CERTIFICATE.subject})`, verdict: 'pass', refs: tls ? [{ kind: 'Ingress', namespace: tls.namespace, name: tls.ingress.name, field: tls.field }] : [], detail: `${why}; clients see a certificate for ${DEFAULT_CERTIFICATE.dnsNames.join(', ')}, not ${host}` });
    return { namespace, dnsNames: [...DEFAULT_CERTIFICATE.dnsNames], covers: false, fallback: true, subject: DEFAULT_CERTIFICATE.subject };
  };
  if (!tls) return fallback('no Ingress has TLS for this host', ctrlPod.namespace);
  if (!tls.secretName) return fallback(`Ingress ${tls.namespace}/${tls.ingress.name} lists the host under TLS without a secretName`, tls.namespace);
  const cm = ctx.state.certManager;
  const served = cm ? certificateForHost(cm, tls.namespace, tls.secretName, host) : undefined;
  if (!served?.found) return fallback(served?.reason ?? `Secret ${JSON.stringify(tls.secretName)} does not exist in namespace ${JSON.stringify(tls.namespace)}`, tls.namespace);
  const issuer = served.issuer === undefined || !cm ? served.issuer : `${served.issuer}${served.certificate ? labAcmeNote(cm, served.certificate.issuerRef, tls.namespace) : ''}`;
  const certificate: ServedCertificateRef = {
    secretName: tls.secretName,
    namespace: tls.namespace,
    dnsNames: served.certificate?.dnsNames ?? served.secret?.leaf?.dnsNames ?? [],
    ...(issuer === undefined ? {} : { issuer }),
    covers: served.covers,
    ...(served.notAfter === undefined ? {} : { notAfter: served.notAfter }),
  };
  walk.add({
    component: 'tls',
    node: ctrlPod.node,
    action: `SNI ${host}: certificate from Secret ${tls.namespace}/${tls.secretName}`,
    verdict: 'pass',
    refs: [{ kind: 'Ingress', namespace: tls.namespace, name: tls.ingress.name, field: tls.field }],
    detail: `${certificate.covers ? 'covers' : `does NOT cover (${served.reason ?? 'names differ'})`} ${host}${certificate.issuer ? `; issued by ${certificate.issuer}` : ''}${certificate.notAfter ? `; valid until ${certificate.notAfter}` : ''}`,
  });
  return certificate;
}

/**
 * The controller's part, after the connection reached its pod. `clientIP` is the address the
 * controller sees: the client's, or a node's when kube-proxy masqueraded the connection.
 */
export function throughController(ctx: Ctx, walk: Walk, ctrlPod: PodState, req: HttpRequest, clientIP: string): Trace {
  const controller = ctrlPod.labels['app.kubernetes.io/instance'] ?? '';
  const certificate = req.scheme === 'https' ? servedCertificate(ctx, walk, controller, ctrlPod, req.host) : undefined;
  const withCert = certificate ? { certificate } : {};
  const d = routeRequest(ctx.state.routing, controller, { scheme: req.scheme, host: req.host, path: req.path, method: req.method, headers: req.headers, clientIP, sni: req.scheme === 'https' ? req.host : undefined });
  if (d.kind === 'answer') {
    walk.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers ${d.status}${d.location ? ` → ${d.location}` : ''}`, verdict: 'answer', refs: d.ref ? [{ kind: 'Ingress', namespace: d.ref.namespace, name: d.ref.name, field: d.ref.field }] : [], detail: d.reason });
    return walk.end('answered', { response: { status: d.status, by: controller, ...(d.location ? { location: d.location } : {}) }, ...withCert });
  }
  const ingRef = { kind: 'Ingress', namespace: d.ingress.namespace, name: d.ingress.name, field: d.field };
  walk.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller}: ${d.host || '*'}${d.path ?? ''} (${d.pathType ?? 'default backend'}) → service ${d.service.name}:${String(d.service.port)}${d.rewrittenPath ? ` (path rewritten to ${d.rewrittenPath})` : ''}`, verdict: 'pass', refs: [ingRef], detail: d.reason });
  const svc = ctx.state.services.find((s) => s.namespace === d.service.namespace && s.name === d.service.name);
  const portName = typeof d.service.port === 'string' ? d.service.port : undefined;
  const portNumber = typeof d.service.port === 'number' ? d.service.port : undefined;
  const answer503 = (detail: string, refs = [ingRef], backend?: NonNullable<Trace['destination']>['backend']): Trace => {
    walk.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers 503`, verdict: 'answer', refs, detail });
    return walk.end('answered', { response: { status: 503, by: controller }, ...(backend ? { destination: { backend } } : {}), ...withCert });
  };
  if (!svc) return answer503(`Service ${d.service.namespace}/${d.service.name} does not exist`, [ingRef], { service: { namespace: d.service.namespace, name: d.service.name, ...(portName ? { portName } : { port: portNumber }) } });
  const sp = servicePort(svc, portName ?? portNumber ?? 0);
  const backend = { service: { namespace: svc.namespace, name: svc.name, port: sp?.port ?? portNumber, ...(portName ? { portName } : {}) } };
  if (!sp) return answer503(`Service ${svc.namespace}/${svc.name} has no port ${String(portName ?? portNumber)}`, [ingRef], backend);
  const sel = selectEndpoints(ctx.state, svc, sp, { kind: 'cluster', fromNode: ctrlPod.node });
  const { chosen, why } = chooseEndpoint(svc, sel.candidates, clientIP, `${clientIP}>${req.host}${req.path}`);
  if (!chosen) return answer503(sel.detail, [{ kind: 'Service', namespace: svc.namespace, name: svc.name, field: 'spec.selector' }], backend);
  walk.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} proxies to endpoint ${chosen.ip}:${chosen.port}${chosen.pod ? ` (${chosen.pod.namespace}/${chosen.pod.name})` : ''}`, verdict: 'pass', refs: [{ kind: 'Service', namespace: svc.namespace, name: svc.name, field: `spec.ports[${svc.ports.indexOf(sp)}]` }], detail: `the controller balances over the Service's endpoints itself (not through the ClusterIP), keyed on the client ${clientIP}, host and path; ${why}` });
  if (!chosen.pod) return walk.end('delivered', { destination: { ip: chosen.ip, port: chosen.port, backend }, ...withCert });
  const target = { namespace: chosen.pod.namespace, name: chosen.pod.name, ip: chosen.pod.ip, node: chosen.pod.node };
  const v = judge(ctx, walk, ctrlPod, chosen.pod, 'TCP', chosen.port, `from the ingress controller pod ${ctrlPod.namespace}/${ctrlPod.name}`);
  if (!v.allowed) {
    walk.add({ component: 'ingress-controller', node: ctrlPod.node, action: `${controller} answers 504 (upstream timed out)`, verdict: 'deny', detail: "the policy drops the controller's packets, so the connection to the backend times out" });
    return walk.end('denied', { response: { status: 504, by: controller }, destination: { pod: target, port: chosen.port, backend }, ...(v.hint ? { hint: v.hint } : {}), ...withCert });
  }
  walk.add({ component: 'pod', node: chosen.pod.node, action: `${req.method ?? 'GET'} ${d.rewrittenPath ?? req.path} delivered to ${chosen.pod.namespace}/${chosen.pod.name} ${chosen.pod.ip}:${chosen.port}`, verdict: 'pass', refs: [{ kind: 'Pod', namespace: chosen.pod.namespace, name: chosen.pod.name }], detail: `Host: ${req.host}; X-Forwarded-For: ${clientIP}` });
  return walk.end('delivered', { destination: { pod: target, port: chosen.port, client: clientIP, backend }, ...withCert });
}
