// Synthetic clusters for the benchmarks: namespaces, Deployments and Services as YAML text.

/** YAML for `objects` objects: 5% namespaces, the rest half Deployments, half Services. */
export function syntheticCluster(objects, replicas = 1) {
  const nsCount = Math.max(1, Math.round(objects * 0.05));
  const apps = Math.floor((objects - nsCount) / 2);
  // Enough nodes for every pod to get an address (a /24 per node, as in the kwire profile).
  const docs = [`apiVersion: kwire.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: bench\nspec:\n  nodes: 100`];
  for (let n = 0; n < nsCount; n++) {
    docs.push(`apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-${n}\n  labels:\n    team: t${n % 20}`);
  }
  for (let i = 0; i < apps; i++) {
    const ns = `ns-${i % nsCount}`;
    docs.push(
      `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-${i}\n  namespace: ${ns}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: app-${i}\n  template:\n    metadata:\n      labels:\n        app: app-${i}\n        tier: t${i % 3}\n    spec:\n      containers:\n      - name: main\n        image: registry.example/app:1\n        ports:\n        - name: http\n          containerPort: 8080`,
    );
    docs.push(
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: app-${i}\n  namespace: ${ns}\nspec:\n  type: ${i % 50 === 0 ? 'NodePort' : 'ClusterIP'}\n  selector:\n    app: app-${i}\n  ports:\n  - name: http\n    port: 80\n    targetPort: http`,
    );
  }
  return docs.join('\n---\n');
}
