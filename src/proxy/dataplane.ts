/**
 * The L7 plane as a Dataplane: requests from the outside world go for real through the ingress
 * proxy's listener of the controller the outside world's DNS names (TLS by SNI, routing, the
 * controller's endpoint choice, the pod's echo program), and pods' TCP connections go through the
 * plane's own pod network (the model's kube-proxy and NetworkPolicy rules, then a real socket to
 * the destination's echo program). What the L7 plane does not carry — UDP, SCTP, node sources —
 * is skipped with its reason.
 */
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { buildDnsRecords, recordsOf } from '../model/dns-records.js';
import { EXTERNAL_CLIENT_IP, workloadPod, type Connection, type Dataplane, type Hop, type Probed } from '../model/dataplane.js';
import { chooseEndpoint, selectEndpoints, servicePort } from '../model/endpoints.js';
import { isIp } from '../model/ip.js';
import { controllerAddress, outsideAddress } from '../model/outside-dns.js';
import { evaluateConnection } from '../model/policy/index.js';
import type { NetworkState, PodState } from '../model/types.js';
import type { RunningCluster } from './cluster.js';
import { POD_HEADER, type EchoReply } from './echo.js';
import { queryNames } from '../linux/dns.js';

/** What one HTTP exchange returned. */
interface Exchange {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly san?: string;
  readonly subject?: string;
}

function exchange(base: URL, scheme: 'http' | 'https', host: string, path: string, method: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<Exchange | { error: string }> {
  const port = Number(base.port);
  return new Promise((resolve) => {
    const fail = (e: Error & { code?: string }): void => {
      resolve({ error: e.code ?? e.message });
    };
    if (scheme === 'http') {
      const req = httpRequest({ hostname: base.hostname, port, path, method, headers: { ...headers, host }, agent: false, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)])), body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
      req.on('error', fail);
      req.end();
      return;
    }
    const socket = tlsConnect({ host: base.hostname, port, servername: host.split(':')[0] ?? host, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      const c = socket.getPeerCertificate();
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      socket.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const end = raw.indexOf('\r\n\r\n');
        const [statusLine = '', ...lines] = raw.slice(0, Math.max(0, end)).split('\r\n');
        const hs: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          if (i > 0) hs[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        resolve({ status: Number(statusLine.split(' ')[1]), headers: hs, body: raw.slice(end + 4), san: c.subjectaltname ?? '', subject: Object.entries(c.subject).map(([k, v]) => `${k}=${String(v)}`).join(', ') });
      });
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    socket.on('error', fail);
  });
}

function fromExchange(got: Exchange | { error: string }, hops: Hop[]): Probed {
  if ('error' in got) {
    hops.push({ component: 'client', action: `no answer: ${got.error}`, verdict: 'no-route', refs: [], detail: '' });
    return { plane: 'l7', failure: got.error === 'timeout' ? 'timeout' : got.error === 'ECONNREFUSED' ? 'refused' : 'error', hops };
  }
  let echo: EchoReply | undefined;
  try {
    echo = JSON.parse(got.body) as EchoReply;
  } catch {
    echo = undefined;
  }
  const pod = got.headers[POD_HEADER];
  const cert = got.san !== undefined ? { certificateNames: got.san.split(',').map((s) => s.trim().replace(/^DNS:/, '')).filter((s) => s !== ''), certificateSubject: got.subject ?? '' } : {};
  const base = { plane: 'l7' as const, status: got.status, ...(got.headers.location ? { location: got.headers.location } : {}), ...cert };
  if (got.status === 200 && pod) {
    const xff = echo?.request.headers['x-forwarded-for'];
    const seen = typeof xff === 'string' ? xff : echo?.request.remoteAddress;
    hops.push({ component: 'pod', action: `answered by ${pod}`, verdict: 'pass', refs: [], detail: `its echo program saw the request${typeof xff === 'string' ? ` with X-Forwarded-For ${xff}` : ''}` });
    return { ...base, verdict: 'delivered', answeredBy: pod, ...(seen ? { seenClient: seen } : {}), hops };
  }
  hops.push({ component: 'ingress-controller', action: `answered ${String(got.status)}`, verdict: 'answer', refs: [], detail: got.headers.location ? `Location: ${got.headers.location}` : '' });
  return { ...base, verdict: 'answered', hops };
}

/** The pod a connection starts at, if it starts at a pod. */
function sourcePod(state: NetworkState, c: Connection): PodState | undefined {
  const f = c.from;
  if (f.kind === 'pod') return state.pods.find((p) => p.namespace === f.namespace && p.name === f.name);
  if (f.kind === 'workload') return workloadPod(state.pods, f);
  if (f.kind === 'ip') return state.pods.find((p) => p.ip === f.ip && !p.hostNetwork);
  return undefined;
}

/** The L7 plane of a running cluster. */
export function l7Plane(cluster: RunningCluster, timeoutMs = 10_000): Dataplane {
  const outside = async (c: Connection, state: NetworkState): Promise<Probed> => {
    if (c.to.kind !== 'url') return { plane: 'l7', skipped: 'from outside, the L7 plane serves only HTTP(S) requests to the ingress controllers', hops: [] };
    const url = c.to;
    const clientIp = c.from.kind === 'external' ? c.from.ip : c.from.kind === 'ip' ? c.from.ip : undefined;
    if (clientIp && clientIp !== EXTERNAL_CLIENT_IP) return { plane: 'l7', skipped: `the L7 plane's clients come from loopback, standing for ${EXTERNAL_CLIENT_IP} only`, hops: [] };
    const hops: Hop[] = [{ component: 'client', action: `from ${EXTERNAL_CLIENT_IP} (loopback)`, verdict: 'info', refs: [], detail: '' }];
    const override = c.resolve?.find((r) => r.name === url.host && (r.port === undefined || r.port === url.port));
    const answer = override ? { ip: override.address } : isIp(url.host) ? { ip: url.host } : outsideAddress(state, url.host, url.port);
    if (!answer) {
      hops.push({ component: 'dns', action: `${url.host}: NXDOMAIN`, verdict: 'no-route', refs: [], detail: "the outside world's DNS knows only the Ingress hosts" });
      return { plane: 'l7', failure: 'nxdomain', hops };
    }
    const controller = state.cluster.ingressControllers.find((ic) => controllerAddress(state, ic.name, url.port)?.ip === answer.ip)?.name;
    const listener = cluster.addresses.find((a) => a.controller === controller);
    if (!listener) return { plane: 'l7', skipped: `${answer.ip} is no ingress controller's address; the L7 plane serves only those`, hops: [] };
    hops.push({ component: 'dns', action: `${url.host} → ${answer.ip}`, verdict: 'pass', refs: [], detail: `${controller ?? ''} listens for it on ${url.scheme === 'https' ? listener.https : listener.http}` });
    const host = url.port === (url.scheme === 'https' ? 443 : 80) ? url.host : `${url.host}:${String(url.port)}`;
    const got = await exchange(new URL(url.scheme === 'https' ? listener.https : listener.http), url.scheme, host, url.path || '/', c.method ?? 'GET', c.headers ?? {}, timeoutMs);
    return fromExchange(got, hops);
  };

  const fromPod = async (c: Connection, state: NetworkState, src: PodState): Promise<Probed> => {
    const hops: Hop[] = [{ component: 'client', action: `from pod ${src.namespace}/${src.name}`, verdict: 'info', refs: [], detail: 'the L7 plane plays the pod network with the model, then connects for real' }];
    let ip: string | undefined;
    let port: number | undefined;
    let path = '/';
    let host: string | undefined;
    const to = c.to;
    if (to.kind === 'ip') [ip, port] = [to.ip, to.port];
    else if (to.kind === 'pod') {
      const pod = state.pods.find((p) => p.namespace === to.namespace && p.name === to.name);
      [ip, port] = [pod?.ip, typeof to.port === 'number' ? to.port : pod?.ports.find((x) => x.name === to.port)?.containerPort];
    } else if (to.kind === 'service') {
      const svc = state.services.find((s) => s.namespace === to.namespace && s.name === to.name);
      [ip, port] = [svc?.clusterIP, svc ? servicePort(svc, to.port)?.port : undefined];
    } else {
      const name = to.kind === 'url' ? to.host : to.name;
      if (typeof to.port !== 'number') return { plane: 'l7', skipped: 'a named port of a DNS name needs an SRV lookup', hops: [] };
      port = to.port;
      if (to.kind === 'url') [path, host] = [to.path || '/', to.host];
      const dns = state.services.find((s) => s.namespace === 'kube-system' && s.name === 'kube-dns');
      const sp = dns ? servicePort(dns, 53, 'UDP') : undefined;
      const chosen = dns && sp ? chooseEndpoint(dns, selectEndpoints(state, dns, sp, { kind: 'cluster', fromNode: src.node }).candidates, src.ip, `${src.ip}>dns`).chosen : undefined;
      if (!chosen || !(chosen.pod ? evaluateConnection(state.policies, src, chosen.pod, 'UDP', chosen.port).allowed : true)) {
        hops.push({ component: 'dns', action: `${name}: no answer`, verdict: 'no-route', refs: [], detail: 'the DNS query is dropped or kube-dns has no endpoint' });
        return { plane: 'l7', failure: 'timeout', hops };
      }
      const records = buildDnsRecords(state);
      ip = queryNames(name.toLowerCase(), { search: [`${src.namespace}.svc.${state.cluster.clusterDomain}`, `svc.${state.cluster.clusterDomain}`, state.cluster.clusterDomain], ndots: 5 }).map((q) => recordsOf(records, q)?.a?.[0]).find((a) => a !== undefined);
      if (!ip) {
        hops.push({ component: 'dns', action: `${name}: NXDOMAIN`, verdict: 'no-route', refs: [], detail: '' });
        return { plane: 'l7', failure: 'nxdomain', hops };
      }
      hops.push({ component: 'dns', action: `${name} → A ${ip}`, verdict: 'pass', refs: [], detail: 'from the cluster DNS records' });
    }
    if (!ip || port === undefined) return { plane: 'l7', skipped: 'the destination does not exist', hops: [] };
    const conn = cluster.podConnection(src, ip, port);
    if (conn.kind === 'denied') {
      hops.push({ component: 'networkpolicy', action: 'dropped', verdict: 'deny', refs: [], detail: conn.reason });
      return { plane: 'l7', failure: 'timeout', hops };
    }
    if (conn.kind === 'unreachable') {
      hops.push({ component: 'kernel', action: 'no route', verdict: 'no-route', refs: [], detail: conn.reason });
      return { plane: 'l7', failure: 'unreachable', hops };
    }
    hops.push({ component: 'kube-proxy', action: conn.detail, verdict: 'pass', refs: [], detail: '' });
    const got = await exchange(new URL(`http://127.0.0.1:${String(conn.localPort)}`), 'http', host ?? ip, path, c.method ?? 'GET', c.headers ?? {}, timeoutMs);
    const probed = fromExchange(got, hops);
    return probed.verdict === 'delivered' ? { ...probed, seenClient: conn.client } : probed;
  };

  return {
    name: 'l7',
    probe: async (connections) => {
      const state = cluster.state;
      const out: Probed[] = [];
      for (const c of connections) {
        if ((c.protocol ?? 'TCP') !== 'TCP') {
          out.push({ plane: 'l7', skipped: "the L7 plane's pods answer TCP only", hops: [] });
          continue;
        }
        const src = sourcePod(state, c);
        if (src) out.push(await fromPod(c, state, src));
        else if (c.from.kind === 'node') out.push({ plane: 'l7', skipped: 'the L7 plane has no nodes to start from', hops: [] });
        else out.push(await outside(c, state));
      }
      return out;
    },
  };
}
