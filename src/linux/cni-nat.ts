/**
 * The NAT the CNI programs on each node, before and after kube-proxy's: a pod's `hostPort` is
 * DNATed from its node's own address to the pod (the portmap plugin; minikube's ingress addon
 * binds 80 and 443 so), for traffic arriving at the node and for the node's own, keeping the
 * client's address; and pod traffic leaving the pod network (to another node, to the outside) is
 * masqueraded to the node's address (Calico's natOutgoing, flannel's and Weave's ipMasq, Cilium's
 * masquerading — every CNI kwire models does it by default).
 */
import type { NetworkState, NodeState } from '../model/types.js';

/** The table the CNI's NAT rules live in, on each node. */
export const CNI_NAT_TABLE = 'ip kwire-cni';

/** The CNI's NAT table of one node. */
export function renderCniNat(state: NetworkState, node: NodeState): string {
  const rules: string[] = [];
  for (const pod of state.pods) {
    if (pod.node !== node.name || pod.ip === '' || pod.hostNetwork) continue;
    for (const p of pod.ports) {
      if (p.hostPort === undefined || p.protocol === 'SCTP') continue;
      const proto = p.protocol.toLowerCase();
      rules.push(`ip daddr ${node.ip} ${proto} dport ${String(p.hostPort)} dnat to ${pod.ip}:${String(p.containerPort)}`);
    }
  }
  const podCIDR = state.cluster.podCIDR;
  const chain = (name: string, hook: string, priority: number, lines: readonly string[]): string => `\tchain ${name} {\n\t\ttype nat hook ${hook} priority ${String(priority)}; policy accept;\n${lines.map((r) => `\t\t${r}\n`).join('')}\t}`;
  const chains = [
    chain('prerouting', 'prerouting', -101, rules),
    chain('output', 'output', -101, rules),
    chain('postrouting', 'postrouting', 100, [`ip saddr ${podCIDR} ip daddr != ${podCIDR} masquerade`]),
  ];
  return `table ${CNI_NAT_TABLE}\ndelete table ${CNI_NAT_TABLE}\ntable ${CNI_NAT_TABLE} {\n${chains.join('\n')}\n}\n`;
}
