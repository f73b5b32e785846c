/** Running the `ip`, `nft` and helper commands the Linux plane is built with. */
import { spawn } from 'node:child_process';

/** What a finished command printed and how it exited. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A command that failed: its argv, exit code and stderr. */
export class CommandError extends Error {
  readonly code = 'ECOMMAND';
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
    readonly input?: string,
  ) {
    super(`${argv.join(' ')} exited ${String(result.code)}: ${result.stderr.trim()}`);
    this.name = 'CommandError';
  }
}

/** Runs a command with optional stdin; resolves with its result whatever the exit code. */
export function run(argv: readonly string[], input?: string): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new Error('run: empty command'));
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

/** Runs a command and throws a CommandError unless it exits 0. */
export async function runChecked(argv: readonly string[], input?: string): Promise<string> {
  const result = await run(argv, input);
  if (result.code !== 0) throw new CommandError(argv, result, input);
  return result.stdout;
}

/** Runs `ip -batch -` inside a network namespace (never in the host's own). */
export async function ipBatch(netns: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await runChecked(['ip', '-n', netns, '-batch', '-'], `${lines.join('\n')}\n`);
}

/** Loads an nft script atomically inside a network namespace (`nft -f -`). */
export async function nftLoad(netns: string, script: string): Promise<void> {
  await runChecked(['ip', 'netns', 'exec', netns, 'nft', '-f', '-'], script);
}

/** Sets sysctls inside a network namespace. */
export async function sysctls(netns: string, values: Readonly<Record<string, string | number>>): Promise<void> {
  const args = Object.entries(values).map(([k, v]) => `${k}=${String(v)}`);
  if (args.length === 0) return;
  await runChecked(['ip', 'netns', 'exec', netns, 'sysctl', '-q', '-w', ...args]);
}

/** Runs tasks with at most `limit` in flight; rejects with the first failure after all settle. */
export async function inParallel<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
}
