/**
 * The Linux plane: the cluster's network built for real in network namespaces, veths, nftables
 * (kube-proxy and NetworkPolicy) and pod agents with cluster DNS. Root on Linux only.
 */
export {
  ensureLinuxEnvironment,
  linuxDown,
  linuxUp,
  type ApplyReport,
  type LinuxDownOptions,
  type LinuxLogger,
  type LinuxPlane,
  type LinuxUpOptions,
  type Probe,
} from './plane.js';
export type { ProbeOutcome } from './probe-agent.js';
export { clusterNames, type ClusterNames } from './names.js';
export { renderKubeProxy, KUBE_PROXY_TABLE } from './kube-proxy.js';
export { renderNetpol, netpolFullScript, netpolUpdateScript, NETPOL_TABLE, type NetpolTable } from './netpol.js';
export { buildDnsRecords, buildOutsideRecords, resolvConf } from '../model/dns-records.js';
export { answerQuery, decodeAnswer, encodeQuery, RR, type DnsRecords } from './dns.js';
export { planTopology, type TopologyPlan } from './topology.js';
