/**
 * `kwire trace SRC DST`: one connection or request, hop by hop.
 */
import { Option, type Command } from 'commander';
import type { Protocol } from '../../api/types.js';
import type { Connection } from '../../model/dataplane.js';
import { createTracer, renderTraceText } from '../../sim/trace/index.js';
import { parseHeaders, parseResolve, parseSource, parseTarget } from './parse.js';
import { inputOptions, loadState, type InputFlags, type Io } from '../context.js';

interface TraceFlags extends InputFlags {
  readonly output: 'text' | 'json';
  readonly protocol: Protocol;
  readonly resolve: string[];
  readonly header: string[];
  readonly request?: string;
}

/** Options of a trace given as CLI text. */
export interface TextTraceOptions {
  readonly protocol?: Protocol;
  readonly resolve?: readonly string[];
  readonly headers?: readonly string[];
  readonly method?: string;
}

/** The connection `kwire trace SRC DST [flags]` asks about. */
export function connectionOf(src: string, dst: string, opts: TextTraceOptions = {}): Connection {
  const headers = parseHeaders(opts.headers ?? []);
  return {
    from: parseSource(src),
    to: parseTarget(dst),
    ...(opts.protocol ? { protocol: opts.protocol } : {}),
    ...(opts.resolve?.length ? { resolve: opts.resolve.map(parseResolve) } : {}),
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(opts.method ? { method: opts.method.toUpperCase() } : {}),
  };
}

/** Runs `trace`; exit 0 only for `delivered`. */
export async function runTrace(src: string, dst: string, flags: TraceFlags, io: Io): Promise<number> {
  const { state } = await loadState(flags, io);
  const connection = connectionOf(src, dst, { protocol: flags.protocol, resolve: flags.resolve, headers: flags.header, ...(flags.request ? { method: flags.request } : {}) });
  const t = createTracer(state).trace(connection);
  io.out(flags.output === 'json' ? JSON.stringify(t, null, 2) : renderTraceText(t));
  return t.verdict === 'delivered' ? 0 : 1;
}

/** Registers `trace` on the program. */
export function registerTrace(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('trace')
    .description('follow one connection or request hop by hop (exit 0 only when delivered)')
    .argument('<src>', 'pod/NS/NAME, NS/NAME, deploy/NS/NAME, node/NAME, external, ip/A.B.C.D')
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
