// Synthetic clusters for the NetworkPolicy benchmarks: pods in namespaces with policies and services.

/** YAML of `pods` pods (10 per Deployment) in `namespaces` namespaces with `policies` policies and `services` services. */
export function policyCluster({ pods = 10000, namespaces = 500, policies = 2000, services = 1000 } = {}) {
  const deployments = Math.ceil(pods / 10);
  // Enough nodes for every pod to get an address (a /24 per node, as in the kwire profile).
  const docs = [`apiVersion: kwire.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: bench\nspec:\n  nodes: 100`];
  for (let n = 0; n < namespaces; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${n}\n  labels:\n    team: t${n % 25}\n    env: ${n % 2 ? 'prod' : 'dev'}`);
  }
  for (let d = 0; d < deployments; d++) {
    const ns = `ns-${d % namespaces}`;
    const replicas = Math.min(10, pods - d * 10);
    docs.push(`apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${d}\n  namespace: ${ns}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: app-${d}\n  template:\n    metadata:\n      labels:\n        app: app-${d}\n        tier: t${d % 4}\n        role: r${d % 7}\n    spec:\n      containers:\n      - name: main\n        ports:\n        - name: http\n          containerPort: ${8000 + (d % 5)}\n        - name: metrics\n          containerPort: 9100`);
    if (d < services) {
      docs.push(`apiVersion: v1\nkind: Service\nmetadata:\n  name: app-${d}\n  namespace: ${ns}\nspec:\n  selector:\n    app: app-${d}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http`);
    }
  }
  const shapes = [
    (ns, i) => `spec:\n  podSelector: {}\n  policyTypes: [Ingress]`,
    (ns, i) => `spec:\n  podSelector:\n    matchLabels:\n      tier: t${i % 4}\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          role: r${i % 7}\n    ports:\n    - port: http`,
    (ns, i) => `spec:\n  podSelector:\n    matchExpressions:\n    - {key: role, operator: In, values: [r${i % 7}, r${(i + 1) % 7}]}\n  ingress:\n  - from:\n    - namespaceSelector:\n        matchLabels:\n          team: t${i % 25}\n      podSelector:\n        matchLabels:\n          tier: t${(i + 1) % 4}\n    ports:\n    - protocol: TCP\n      port: 8000\n      endPort: 8003`,
    (ns, i) => `spec:\n  podSelector:\n    matchLabels:\n      tier: t${i % 4}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          env: prod\n  - to:\n    - ipBlock:\n        cidr: 192.0.${i % 256}.0/24\n        except: [192.0.${i % 256}.128/25]\n    ports:\n    - port: 443\n  - ports:\n    - {protocol: UDP, port: 53}`,
  ];
  for (let p = 0; p < policies; p++) {
    const ns = `ns-${p % namespaces}`;
    docs.push(`apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: pol-${p}\n  namespace: ${ns}\n${shapes[p % shapes.length](ns, p)}`);
  }
  return docs.join('\n---\n');
}
