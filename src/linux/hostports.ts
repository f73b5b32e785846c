/**
 * Host ports, as the CNI's portmap plugin programs them: a pod's `hostPort` is DNATed from its
 * node's own address to the pod (minikube's ingress addon binds 80 and 443 so), before kube-proxy's
 * chains, for traffic arriving at the node and for the node's own. The client's address is kept.
 */
import type { NetworkState, NodeState } from '../model/types.js';

/** The table the host-port rules live in, on each node. */
export const HOSTPORTS_TABLE = 'ip kwire-hostports';

/** The host-port table of one node (empty chains when none of its pods binds a host port). */
export function renderHostPorts(state: NetworkState, node: NodeState): string {
  const rules: string[] = [];
  for (const pod of state.pods) {
    if (pod.node !== node.name || pod.ip === '' || pod.hostNetwork) continue;
    for (const p of pod.ports) {
      if (p.hostPort === undefined || p.protocol === 'SCTP') continue;
      const proto = p.protocol.toLowerCase();
      rules.push(`ip daddr ${node.ip} ${proto} dport ${String(p.hostPort)} dnat to ${pod.ip}:${String(p.containerPort)}`);
    }
  }
  const chain = (name: string, hook: string): string => `\tchain ${name} {\n\t\ttype nat hook ${hook} priority -101; policy accept;\n${rules.map((r) => `\t\t${r}\n`).join('')}\t}`;
  return `table ${HOSTPORTS_TABLE}\ndelete table ${HOSTPORTS_TABLE}\ntable ${HOSTPORTS_TABLE} {\n${chain('prerouting', 'prerouting')}\n${chain('output', 'output')}\n}\n`;
}
