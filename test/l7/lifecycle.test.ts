/**
 * `up --detach`, `status` and `down` as a user runs them (the compiled CLI, a private runtime
 * directory, ephemeral ports): ready line, real traffic, the PID recorded, stopped by that PID.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/cli/up/runtime.js';
import { get, ROOT } from './support.js';

const run = promisify(execFile);
const built = existsSync(join(ROOT, 'dist', 'cli', 'up', 'index.js'));
const runtime = mkdtempSync(join(tmpdir(), 'kwire-l7-'));
/** The compiled CLI with the L7 verbs registered (until src/cli/main.ts registers them). */
const ENTRY_SOURCE = "#!/usr/bin/env node\n// Test entry: the compiled CLI with the L7 verbs registered (until src/cli/main.ts registers them).\nimport { Command } from 'NODE_MODULES/commander/esm.mjs';\nimport { processIo } from 'DIST/cli/main.js';\nimport { registerUp } from 'DIST/cli/up/index.js';\nimport { registerDown } from 'DIST/cli/down/index.js';\nimport { registerStatus } from 'DIST/cli/status/index.js';\nimport { registerDemo } from 'DIST/cli/demo/index.js';\nimport { InputError, formatProblem } from 'DIST/api/problems.js';\nimport { EnvironmentError } from 'DIST/cli/context.js';\n\nconst io = processIo();\nlet pending;\nconst program = new Command('kwire').exitOverride();\nconst done = (p) => (pending = p);\nregisterUp(program, io, done);\nregisterDown(program, io, done);\nregisterStatus(program, io, done);\nregisterDemo(program, io, done);\ntry {\n  await program.parseAsync(process.argv.slice(2), { from: 'user' });\n  process.exitCode = pending ? await pending : 0;\n} catch (err) {\n  if (err instanceof InputError) { for (const p of err.problems) io.err(`error: ${formatProblem(p)}`); process.exitCode = 2; }\n  else if (err instanceof EnvironmentError) { io.err(`error: ${err.message}`); process.exitCode = 3; }\n  else { io.err(String(err?.stack ?? err)); process.exitCode = err?.code?.startsWith?.('commander.') ? 2 : 4; }\n}\n";
const ENTRY = join(runtime, 'kwire-l7.mjs');
writeFileSync(ENTRY, ENTRY_SOURCE.replaceAll('DIST/', `${join(ROOT, 'dist')}/`).replace('NODE_MODULES/', `${join(ROOT, 'node_modules')}/`));
const env = { ...process.env, KWIRE_RUNTIME_DIR: runtime, NO_COLOR: '1' };

function kwire(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(process.execPath, [ENTRY, ...args], { cwd: ROOT, env, timeout: 20_000 }).then(
    (r) => ({ ...r, code: 0 }),
    (e: unknown) => {
      const x = e as { stdout: string; stderr: string; code: number };
      return { stdout: x.stdout, stderr: x.stderr, code: x.code };
    },
  );
}

afterAll(async () => {
  // A failed assertion must not leave the detached cluster running.
  await kwire('down', 'kwire');
  rmSync(runtime, { recursive: true, force: true });
});

describe.skipIf(!built)('up --detach, status, down (needs the compiled CLI: npm run build)', () => {
  it('starts detached, serves, reports, and stops by its PID', async () => {
    const up = await kwire('up', '-f', 'examples/course', '--detach', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--now', '2026-01-01T00:00:00Z');
    expect(up.code, up.stderr).toBe(0);
    const ready = up.stdout.trim().split('\n');
    expect(ready).toHaveLength(1);
    const m = /^ready ingress-nginx (http:\/\/127\.0\.0\.1:\d+) (https:\/\/127\.0\.0\.1:\d+) metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics$/.exec(ready[0] ?? '');
    expect(m, ready[0]).not.toBeNull();
    const r = await get(m![1]!, 'domain1.bar.com', '/bar');
    expect(r.status).toBe(200);

    const status = await kwire('status', '-o', 'json');
    expect(status.code).toBe(0);
    const s = JSON.parse(status.stdout) as { clusters: { cluster: string; pid: number; running: boolean; addresses: { http: string }[] }[] };
    // status also lists the Linux plane's clusters (/run/kwire), which another suite may be running.
    const mine = s.clusters.filter((c) => c.cluster === 'kwire');
    expect(mine).toHaveLength(1);
    const { pid } = mine[0]!;
    expect(mine[0]).toMatchObject({ cluster: 'kwire', running: true });
    expect(mine[0]!.addresses[0]!.http).toBe(m![1]);
    expect(isAlive(pid)).toBe(true);

    const again = await kwire('up', '-f', 'examples/course', '--http-port', '0', '--https-port', '0', '--admin-port', '0');
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`cluster "kwire" is already starting or running (pid ${pid})`);

    const down = await kwire('down', 'kwire');
    expect(down.code, down.stderr).toBe(0);
    expect(isAlive(pid)).toBe(false);
    expect((await kwire('status', '-o', 'json')).stdout).not.toContain('"cluster": "kwire"');
    expect((await kwire('down', 'kwire')).code).toBe(1);
  });
});
