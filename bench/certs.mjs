// Benchmark (issue 4): issue 1,000 ECDSA P-256 and 100 RSA-2048 certificates through the
// cert-manager controller (SelfSigned → CA issuer chain). Run: npm run build && node bench/certs.mjs
import { performance } from 'node:perf_hooks';
import { reconcileCertificates } from '../dist/controllers/certmanager/index.js';

function objects(count, algorithm, size) {
  const meta = (kind, name, ns) => ({ apiVersion: 'cert-manager.io/v1', kind, metadata: { name, namespace: ns, labels: {}, annotations: {} } });
  const out = [
    { ...meta('Issuer', 'selfsigned', 'bench'), spec: { selfSigned: {} } },
    { ...meta('Certificate', 'root', 'bench'), spec: { isCA: true, commonName: 'bench root', secretName: 'root-ca', issuerRef: { name: 'selfsigned' }, privateKey: { algorithm: 'ECDSA', size: 256 } } },
    { ...meta('Issuer', 'ca', 'bench'), spec: { ca: { secretName: 'root-ca' } } },
  ];
  for (let i = 0; i < count; i++) {
    out.push({ ...meta('Certificate', `c${i}`, 'bench'), spec: { secretName: `c${i}-tls`, dnsNames: [`c${i}.example.com`, `www.c${i}.example.com`], issuerRef: { name: 'ca' }, privateKey: { algorithm, size } } });
  }
  return out;
}

for (const [label, count, algorithm, size] of [['ECDSA P-256', 1000, 'ECDSA', 256], ['RSA-2048', 100, 'RSA', 2048]]) {
  for (const seeded of [false, true]) {
    const objs = objects(count, algorithm, size);
    const t0 = performance.now();
    const state = reconcileCertificates({ objects: objs, ingresses: [], now: new Date('2026-11-26T00:00:00Z'), seed: seeded ? `bench-${label}` : undefined });
    const ms = performance.now() - t0;
    const ready = state.certificates.filter((c) => c.ready).length;
    console.log(`${label}${seeded ? ' (seeded keys)' : ' (random keys)'}: ${ready}/${count + 1} ready in ${ms.toFixed(0)}ms = ${(ms / count).toFixed(2)}ms per certificate`);
  }
}
