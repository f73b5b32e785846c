/**
 * The cluster's DNS records from a NetworkState, as CoreDNS's kubernetes plugin serves them:
 * `svc.cluster.local` A/SRV for Services (headless → pod IPs), pod A records, and resolv.conf.
 */
import { selectEndpoints } from './endpoints.js';
import { outsideRecords } from './outside-dns.js';
import type { NetworkState } from './types.js';

/** An SRV target. */
export interface SrvRecord {
  readonly priority: number;
  readonly weight: number;
  readonly port: number;
  readonly target: string;
}

/** What one name resolves to. */
export interface NameRecords {
  a?: string[];
  srv?: SrvRecord[];
  cname?: string;
}

/** Every name of the cluster zone, lower case without the trailing dot. */
export interface DnsRecords {
  readonly domain: string;
  readonly names: Record<string, NameRecords>;
}

/** The records of a name, wildcards (`*.suffix`, one label) included. */
export function recordsOf(records: DnsRecords, name: string): NameRecords | undefined {
  const dot = name.indexOf('.');
  return records.names[name] ?? (dot > 0 ? records.names[`*${name.slice(dot)}`] : undefined);
}

function add(records: DnsRecords, name: string, f: (r: NameRecords) => void): void {
  const key = name.toLowerCase();
  const r = records.names[key] ?? (records.names[key] = {});
  f(r);
}

/** The cluster's DNS records, as CoreDNS's kubernetes plugin would serve them. */
export function buildDnsRecords(state: NetworkState): DnsRecords {
  const domain = state.cluster.clusterDomain;
  const records: DnsRecords = { domain, names: {} };
  for (const pod of state.pods) {
    if (pod.ip === '' || pod.ip.includes(':')) continue;
    const name = `${pod.ip.replace(/\./g, '-')}.${pod.namespace}.pod.${domain}`;
    add(records, name, (r) => (r.a = [pod.ip]));
  }
  for (const svc of state.services) {
    const fqdn = `${svc.name}.${svc.namespace}.svc.${domain}`;
    if (svc.type === 'ExternalName') {
      if (svc.externalName) add(records, fqdn, (r) => (r.cname = svc.externalName));
      continue;
    }
    const endpointIps = new Set<string>();
    for (const port of svc.ports) {
      const eligible = selectEndpoints(state, svc, port, { kind: 'cluster' }).candidates;
      for (const c of eligible) endpointIps.add(c.ip);
      if (port.name === '') continue;
      const srvName = `_${port.name}._${port.protocol.toLowerCase()}.${fqdn}`;
      if (svc.headless) {
        for (const c of eligible) {
          const host = `${c.ip.replace(/\./g, '-')}.${fqdn}`;
          add(records, host, (r) => (r.a = [c.ip]));
          add(records, srvName, (r) => (r.srv = [...(r.srv ?? []), { priority: 0, weight: 100, port: c.port, target: host }]));
        }
      } else {
        add(records, srvName, (r) => (r.srv = [...(r.srv ?? []), { priority: 0, weight: 100, port: port.port, target: fqdn }]));
      }
    }
    if (!svc.headless) add(records, fqdn, (r) => (r.a = [svc.clusterIP]));
    else add(records, fqdn, (r) => (r.a = [...endpointIps].sort()));
  }
  // Names outside the cluster zone are forwarded to the outside world's DNS (CoreDNS's `forward`).
  for (const [name, ip] of outsideRecords(state)) if (!(name in records.names)) add(records, name, (r) => (r.a = [ip]));
  return records;
}

/** The outside world's DNS (served in the `external` namespace): the Ingress hosts and nothing else. */
export function buildOutsideRecords(state: NetworkState): DnsRecords {
  const records: DnsRecords = { domain: '', names: {} };
  for (const [name, ip] of outsideRecords(state)) add(records, name, (r) => (r.a = [ip]));
  return records;
}

/** The resolv.conf the kubelet writes for a pod (ClusterFirst). */
export function resolvConf(state: NetworkState, namespace: string, nameserver: string): string {
  const domain = state.cluster.clusterDomain;
  return `search ${namespace}.svc.${domain} svc.${domain} ${domain}\nnameserver ${nameserver}\noptions ndots:5\n`;
}

