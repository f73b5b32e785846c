#!/usr/bin/env node
// Runs the benchmarks (bench/<name>.mjs) one after another as child processes, after `npm run build`.
// Usage: node bench/run.js [--no-build] [--list] [name...]   (npm run bench -- load reach)
// Benchmarks whose requirements (root, peer programs) are missing are skipped with the reason.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(import.meta.dirname, '..');

/**
 * The benchmarks by name (file bench/<name>.mjs), in the order they run. `root` and `commands`
 * are what a benchmark needs beyond Node; without them it is skipped, not failed.
 */
const BENCHMARKS = {
  load: { about: 'load + validate + reconcile 1,000 and 10,000 objects (budget 10,000 < 1 s)' },
  reach: {
    about: 'workload reach for up to 10k pods / 2k policies / 1k services, and 1,000 traces',
  },
  ingress: { about: 'compile 5,000 Ingresses (20,000 paths) and route 20,000 requests' },
  certs: {
    about: 'issue 1,000 ECDSA and 100 RSA certificates through the cert-manager controller',
  },
  proxy: {
    about: "kwire up's proxy against nginx on the same route and backend, with wrk",
    commands: ['nginx', 'wrk', 'openssl'],
  },
  linux: {
    about: 'Linux plane: pods ready, relabel and policy edits, 10,000 Services in nft',
    root: true,
    commands: ['ip', 'nft'],
  },
};

/** Whether `name` is a program on PATH. */
function hasCommand(name) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
}

/** Why a benchmark cannot run here, or undefined when it can. */
function skipReason(bench) {
  const missing = [];
  if (bench.root && process.getuid?.() !== 0) missing.push('root');
  const absent = (bench.commands ?? []).filter((c) => !hasCommand(c));
  if (absent.length > 0) missing.push(`${absent.join(', ')} on PATH`);
  return missing.length > 0 ? `needs ${missing.join(' and ')}` : undefined;
}

/** Runs a command with inherited stdio; resolves to its exit code (128 + n when killed by a signal). */
function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit' });
    child.once('error', (err) => {
      console.error(`bench: cannot start ${command}: ${err.message}`);
      resolve(127);
    });
    child.once('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

/** Parses argv into options; throws with a message naming the bad value. */
function parseArgs(argv) {
  const opts = { build: true, list: false, help: false, names: [] };
  for (const arg of argv) {
    if (arg === '--no-build') opts.build = false;
    else if (arg === '--list') opts.list = true;
    else if (arg === '-h' || arg === '--help') opts.help = true;
    else if (arg.startsWith('-'))
      throw new Error(`unknown option "${arg}". Options: --no-build, --list, --help`);
    else opts.names.push(arg.replace(/\.mjs$/, '').replace(/^bench\//, ''));
  }
  const unknown = opts.names.filter((n) => !Object.hasOwn(BENCHMARKS, n));
  if (unknown.length > 0) {
    throw new Error(
      `unknown benchmark ${unknown.map((n) => `"${n}"`).join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')} (see --list)`,
    );
  }
  return opts;
}

/** Lines of a table with left-aligned columns. */
function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) =>
    r
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd(),
  );
}

const USAGE = `usage: node bench/run.js [--no-build] [--list] [name...]
  runs bench/<name>.mjs for each name (all when none), after npm run build unless --no-build`;

async function main(argv) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (err) {
    console.error(`bench: ${err.message}\n${USAGE}`);
    return 2;
  }
  if (opts.help) {
    console.log(USAGE);
    return 0;
  }
  const names = opts.names.length > 0 ? [...new Set(opts.names)] : Object.keys(BENCHMARKS);
  if (opts.list) {
    const rows = [
      ['NAME', 'RUNS HERE', 'WHAT'],
      ...names.map((n) => [
        n,
        skipReason(BENCHMARKS[n]) ? `no: ${skipReason(BENCHMARKS[n])}` : 'yes',
        BENCHMARKS[n].about,
      ]),
    ];
    for (const line of table(rows)) console.log(line);
    return 0;
  }
  if (opts.build) {
    console.log('── build (npm run build)');
    const t0 = performance.now();
    const code = await run('npm', ['run', 'build']);
    console.log(`── build: exit ${code} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (code !== 0) {
      console.error('bench: the build failed; fix it or run the last build with --no-build');
      return code;
    }
  } else if (!existsSync(join(ROOT, 'dist'))) {
    console.error('bench: dist/ is missing; run without --no-build (or npm run build) first');
    return 1;
  }
  const results = [];
  for (const name of names) {
    const reason = skipReason(BENCHMARKS[name]);
    if (reason) {
      console.log(`\n── ${name}: skipped (${reason})`);
      results.push({ name, status: 'skipped', code: '-', seconds: '-', note: reason });
      continue;
    }
    const file = join('bench', `${name}.mjs`);
    console.log(`\n── ${name} (node ${file})`);
    const t0 = performance.now();
    const code = await run(process.execPath, [file]);
    const seconds = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`── ${name}: exit ${code} in ${seconds} s`);
    results.push({ name, status: code === 0 ? 'ok' : 'failed', code, seconds, note: '' });
  }
  console.log('');
  const rows = [
    ['BENCHMARK', 'STATUS', 'EXIT', 'SECONDS', 'NOTE'],
    ...results.map((r) => [r.name, r.status, r.code, r.seconds, r.note]),
  ];
  for (const line of table(rows)) console.log(line);
  return results.some((r) => r.status === 'failed') ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
