/**
 * Which CA certificates acme-client trusts per ACME server origin. acme-client talks through one
 * shared axios instance; a request interceptor gives each registered origin its own HTTPS agent
 * (system roots plus the extra roots, e.g. the lab root or Pebble's), leaving other origins alone.
 */
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import acme from 'acme-client';

const agents = new Map<string, Agent>();
let installed = false;

/** Trusts `extraRoots` (PEM), besides the system roots, for requests to `url`'s origin. */
export function trustForOrigin(url: string, extraRoots: readonly string[]): void {
  const origin = new URL(url).origin;
  agents.get(origin)?.destroy();
  agents.set(origin, new Agent({ ca: [...rootCertificates, ...extraRoots], keepAlive: false }));
  if (installed) return;
  installed = true;
  acme.axios.interceptors.request.use((config) => {
    const target = config.url === undefined ? undefined : agents.get(originOf(config.url));
    if (target) config.httpsAgent = target;
    return config;
  });
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
}
