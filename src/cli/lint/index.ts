/**
 * `kwire lint`: findings with stable ids, severity, position and a remedy.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { InputError, type Problem } from '../../api/problems.js';
import { allChecks, lintFormats, runLint, SEVERITY_RANK, type LintFormat } from '../../analysis/lint/index.js';
import { buildNetworkState } from '../../controllers/index.js';
import { loadStore } from '../../store/index.js';
import { inputOptions, type InputFlags, type Io } from '../context.js';
import { VERSION } from '../version.js';

interface LintFlags extends InputFlags {
  readonly output: LintFormat;
  readonly failOn: 'error' | 'warning' | 'none';
}

/** Problems that are input errors lint cannot report as findings (unreadable files, bad YAML). */
function isFatal(p: Problem): boolean {
  return p.severity === 'error' && (p.code.startsWith('KW-YAML') || p.code.startsWith('KW-LOAD') || p.code === 'KW-USAGE');
}

function gitRoot(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, '.git'))) return dir;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Runs `lint`; exit 1 when a finding reaches `--fail-on`. */
export async function runLintCommand(flags: LintFlags, io: Io): Promise<number> {
  if (flags.filename.length === 0) throw new InputError([{ code: 'KW-USAGE', severity: 'error', message: 'no input: give manifests with -f FILE|DIR|-' }]);
  const store = await loadStore({ files: flags.filename, recursive: flags.recursive, readStdin: io.readStdin, cwd: io.cwd });
  const fatal = store.problems.filter(isFatal);
  if (fatal.length) throw new InputError(fatal);
  const state = buildNetworkState({ objects: store.objects.map((o) => o.object), sourceOf: store.sourceOf, locate: store.locate }, { profile: flags.profile, ingressFlavour: flags.ingressFlavour, now: flags.now, seed: flags.seed });
  const checks = allChecks();
  const findings = runLint(state, checks, store.problems);
  const root = gitRoot(io.cwd) ?? io.cwd;
  const repoPath = (file: string): string => relative(root, resolve(io.cwd, file)).split('\\').join('/');
  io.out(lintFormats[flags.output](findings, { checks, version: VERSION, repoPath }));
  if (flags.failOn === 'none') return 0;
  const threshold = SEVERITY_RANK[flags.failOn];
  return findings.some((f) => SEVERITY_RANK[f.severity] >= threshold) ? 1 : 0;
}

/** Registers `lint` on the program. */
export function registerLint(program: Command, io: Io, done: (p: Promise<number>) => void): void {
  const cmd = program
    .command('lint')
    .description('check the manifests for networking mistakes: findings with ids, positions and remedies')
    .addOption(new Option('-o, --output <format>', 'output format').choices(Object.keys(lintFormats)).default('text'))
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at least this severe').choices(['error', 'warning', 'none']).default('error'));
  inputOptions(cmd).action((flags: LintFlags) => {
    done(runLintCommand(flags, io));
  });
}
