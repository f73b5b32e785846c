/**
 * `kwire trace SRC DST`: one connection or request, hop by hop.
 */
import { Option, type Command } from 'commander';
import type { Protocol } from '../../api/types.js';
import { certificateForHost, labAcmeNote } from '../../controllers/certmanager/index.js';
import type { NetworkState } from '../../model/types.js';
import { createTracer, renderTraceText, type CertificateLookup } from '../../sim/trace/index.js';
import { inputOptions, loadState, type InputFlags, type Io } from '../context.js';

interface TraceFlags extends InputFlags {
  readonly output: 'text' | 'json';
  readonly protocol: Protocol;
  readonly resolve: string[];
  readonly header: string[];
  readonly request?: string;
}

/** The certificate a trace names for an SNI, from the cert-manager state. */
export function certificateLookup(state: NetworkState): CertificateLookup | undefined {
  const cm = state.certManager;
  if (!cm) return undefined;
  return (namespace, secretName, host) => {
    if (!secretName) return undefined;
    const served = certificateForHost(cm, namespace, secretName, host);
    return {
      secretName,
      namespace,
      dnsNames: served.certificate?.dnsNames ?? [],
      issuer: served.issuer === undefined ? undefined : `${served.issuer}${served.certificate ? labAcmeNote(cm, served.certificate.issuerRef, namespace) : ''}`,
      covers: served.covers,
      notAfter: served.notAfter,
    };
  };
}

/** Runs `trace`; exit 0 only for `delivered`. */
export async function runTrace(src: string, dst: string, flags: TraceFlags, io: Io): Promise<number> {
  const { state } = await loadState(flags, io);
  const headers: Record<string, string> = {};
  for (const h of flags.header) {
    const i = h.indexOf(':');
    if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
  }
  const t = createTracer(state, certificateLookup(state)).trace(src, dst, { protocol: flags.protocol, resolve: flags.resolve, headers, method: flags.request });
  io.out(flags.output === 'json' ? JSON.stringify(t, null, 2) : renderTraceText(t));
  return t.verdict === 'delivered' ? 0 : 1;
}

/** Registers `trace` on the program. */
export function registerTrace(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('trace')
    .description('follow one connection or request hop by hop (exit 0 only when delivered)')
    .argument('<src>', 'pod/NS/NAME, NS/NAME, deploy/NS/NAME, external, ip/A.B.C.D')
    .argument('<dst>', 'http(s)://host[:port]/path, svc/NS/NAME:PORT, pod/NS/NAME:PORT, A.B.C.D:PORT, name.ns.svc.cluster.local:PORT')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--protocol <protocol>', 'transport protocol').choices(['TCP', 'UDP', 'SCTP']).default('TCP'))
    .option('--resolve <name:port:addr>', 'make the outside DNS answer ADDR for NAME, as curl --resolve (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('-H, --header <header>', 'request header, e.g. "X-Canary: always" (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('-X, --request <method>', 'HTTP method');
  inputOptions(cmd).action((src: string, dst: string, flags: TraceFlags) => {
    done(runTrace(src, dst, flags, io));
  });
}
