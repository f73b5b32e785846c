/**
 * The CLI's one exit point: parses argv, runs a verb, and maps its result or failure to an exit
 * code (0 ok, 1 negative answer, 2 bad usage or input, 3 environment, 4 bug).
 */
import { Command, CommanderError } from 'commander';
import { formatProblem, InputError } from '../api/problems.js';
import { EnvironmentError, type Io } from './context.js';
import { registerGet } from './get/index.js';
import { registerLint } from './lint/index.js';
import { registerTrace } from './trace/index.js';
import { registerReach } from './reach/index.js';
import { registerDiff } from './diff/index.js';
import { registerUp } from './up/index.js';
import { registerDown } from './down/index.js';
import { registerStatus } from './status/index.js';
import { registerDemo } from './demo/index.js';
import { registerExec } from './exec/index.js';
import { registerNode } from './node/index.js';
import { VERSION } from './version.js';


async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks).toString('utf8');
}

/** The process's own Io. A closed pipe on stdout (`kwire get … | head`) ends output quietly. */
export function processIo(): Io {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  return {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    readStdin: () => readAll(process.stdin),
    cwd: process.cwd(),
    color: process.stdout.isTTY && !process.env.NO_COLOR,
  };
}

/** Builds the program; verbs report their promise through `done`. */
export function buildProgram(io: Io, done: (p: Promise<number>) => void): Command {
  const program = new Command('kwire')
    .description('Kubernetes networking from plain manifests: see, explain and run what your Services, Ingresses and NetworkPolicies do.')
    .version(VERSION)
    .showHelpAfterError('(run kwire --help for usage)')
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({
      writeOut: (t) => {
        io.out(t.trimEnd());
      },
      writeErr: (t) => {
        io.err(t.trimEnd());
      },
    });
  registerGet(program, io, done);
  registerTrace(program, io, done);
  registerReach(program, io, done);
  registerDiff(program, io, done);
  registerLint(program, io, done);
  registerUp(program, io, done);
  registerDown(program, io, done);
  registerStatus(program, io, done);
  registerExec(program, io, done);
  registerNode(program, io, done);
  registerDemo(program, io, done);
  return program;
}

/** Runs kwire with arguments (without `node` and the script); resolves to the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let pending: Promise<number> | undefined;
  try {
    const program = buildProgram(io, (p) => {
      pending = p;
    });
    await program.parseAsync([...argv], { from: 'user' });
    return pending ? await pending : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return 2;
    }
    if (err instanceof InputError) {
      for (const p of err.problems) io.err(`error: ${formatProblem(p)}`);
      return 2;
    }
    if (err instanceof EnvironmentError) {
      io.err(`error: ${err.message}`);
      return 3;
    }
    io.err(`kwire: internal error (a bug; please report it): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return 4;
  }
}
