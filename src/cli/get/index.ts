/**
 * `kwire get KIND[,KIND]`: the computed state as kubectl would show it.
 */
import { Option, type Command } from 'commander';
import { stringify } from 'yaml';
import { InputError } from '../../api/problems.js';
import { inputOptions, loadState, type InputFlags, type Io } from '../context.js';
import { parseLabelSelector, renderTable } from '../table.js';
import { ALL_KINDS, KIND_VIEWS, type KindView, type Row } from './kinds.js';

interface GetFlags extends InputFlags {
  readonly output: 'table' | 'wide' | 'json' | 'yaml' | 'name';
  readonly selector?: string;
}

function resolveKinds(arg: string): KindView[] {
  const names = arg.split(',').flatMap((n) => (n === 'all' ? ALL_KINDS : [n.toLowerCase()]));
  return names.map((n) => {
    const view = KIND_VIEWS.get(n);
    if (!view) {
      const known = [...new Set([...KIND_VIEWS.values()].map((v) => v.name))].join(', ');
      throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `the server doesn't have a resource type "${n}"`, hint: `kwire knows: ${known}, all` }]);
    }
    return view;
  });
}

/** Runs `get`; returns the exit code. */
export async function runGet(kindArg: string, flags: GetFlags, io: Io): Promise<number> {
  const views = resolveKinds(kindArg);
  const match = flags.selector ? parseLabelSelector(flags.selector) : undefined;
  if (typeof match === 'string') throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: `-l: ${match}`, hint: 'e.g. -l app=web,tier!=db' }]);
  const { state } = await loadState(flags, io);
  const ns = flags.allNamespaces ? undefined : (flags.namespace ?? 'default');
  const selected: { view: KindView; rows: Row[] }[] = views.map((view) => ({
    view,
    rows: view.rows(state).filter((r) => (!view.namespaced || ns === undefined || r.namespace === ns) && (!match || match(r.labels))),
  }));
  if (flags.output === 'json' || flags.output === 'yaml') {
    const items = selected.flatMap((s) => s.rows.map((r) => r.object()));
    const doc = { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } };
    io.out(flags.output === 'json' ? JSON.stringify(doc, null, 2) : stringify(doc, { lineWidth: 0 }).trimEnd());
    return 0;
  }
  if (flags.output === 'name') {
    for (const s of selected) for (const r of s.rows) io.out(`${s.view.name}/${r.name}`);
    return 0;
  }
  const blocks: string[] = [];
  for (const { view, rows } of selected) {
    if (rows.length === 0) {
      if (views.length === 1) io.err(ns && view.namespaced ? `No resources found in ${ns} namespace.` : 'No resources found');
      continue;
    }
    const withNs = view.namespaced && ns === undefined;
    const headers = [...(withNs ? ['NAMESPACE'] : []), ...view.headers, ...(flags.output === 'wide' ? view.wideHeaders : [])];
    const body = rows.map((r) => [...(withNs ? [r.namespace] : []), ...r.cells, ...(flags.output === 'wide' ? r.wide : [])]);
    const prefix = views.length > 1 ? `${view.aliases[0] ?? view.name}/` : '';
    if (prefix) for (const b of body) b[withNs ? 1 : 0] = prefix + (b[withNs ? 1 : 0] ?? '');
    blocks.push(renderTable(headers, body));
  }
  if (blocks.length) io.out(blocks.join('\n\n'));
  return 0;
}

/** Registers `get` on the program. */
export function registerGet(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('get')
    .description('show the computed cluster: pods, svc, endpointslices, nodes, namespaces, ingress, ingressclasses, networkpolicies, ipaddresspools, certificates, secrets (comma-separated, or all)')
    .argument('<kinds>', 'kinds to show, e.g. pods,svc')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'wide', 'json', 'yaml', 'name']).default('table'))
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db');
  inputOptions(cmd).action((kinds: string, flags: GetFlags) => {
    done(runGet(kinds, flags, io));
  });
}
