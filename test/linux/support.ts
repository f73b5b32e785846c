/**
 * Support for the privileged Linux plane suites: whether they can run (root on Linux with ip, nft
 * and perl), and the pod/probe agents transpiled from src/linux for Node to run directly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

/** Why the privileged suites cannot run here, or `undefined` when they can. */
export function privilegedSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not root: the Linux plane needs network namespaces and nftables (CI runs these suites as root)';
  for (const tool of [['ip', '-V'], ['bridge', '-V'], ['nft', '--version'], ['sysctl', '--version'], ['perl', '-e', '1']] as const) {
    try {
      execFileSync(tool[0], tool.slice(1), { stdio: 'ignore' });
    } catch {
      return `"${tool[0]}" is not installed`;
    }
  }
  return undefined;
}

const AGENT_SOURCES = ['binder', 'dns', 'echo-agent', 'probe-agent'];

/** Transpiles the agents (they import only Node built-ins and each other) into a temporary directory. */
export function agentDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kwire-agents-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  for (const name of AGENT_SOURCES) {
    const source = readFileSync(new URL(`../../src/linux/${name}.ts`, import.meta.url), 'utf8');
    const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true } });
    writeFileSync(join(dir, `${name}.js`), out.outputText);
  }
  return dir;
}
