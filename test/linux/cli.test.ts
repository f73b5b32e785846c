/**
 * The Linux plane as a user drives it: `kwire up --dataplane linux`, `kwire exec POD -- curl`, SIGTERM,
 * and cleanup after `kill -9` by `kwire down`. Runs the built CLI (dist/, made by `npm ci`) as child
 * processes; root only.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterNames } from '../../src/linux/index.js';
import { privilegedSkipReason } from './support.js';

const root = join(import.meta.dirname, '../..');
const bin = join(root, 'bin/kwire.js');
const reason = privilegedSkipReason() ?? (existsSync(join(root, 'dist/cli/main.js')) ? undefined : 'dist/ is not built (npm ci builds it)');
if (reason) console.warn(`test/linux/cli.test.ts skipped: ${reason}`);

const CLUSTER = 'kwcli';
const dir = mkdtempSync(join(tmpdir(), 'kwire-cli-'));
const clusterFile = join(dir, 'cluster.yaml');
writeFileSync(clusterFile, `apiVersion: kwire.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: ${CLUSTER}\n`);
const env = { ...process.env, KWIRE_RUNTIME_DIR: dir, NO_COLOR: '1' };

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(clusterNames(CLUSTER).prefix));
}

function kwire(args: string[], timeout = 20_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env, timeout }, (error, out, err) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err });
    });
  });
}

function startUp(upEnv: NodeJS.ProcessEnv = env): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawn(process.execPath, [bin, 'up', '--dataplane', 'linux', '-f', clusterFile, '-f', 'examples/course'], { cwd: root, env: upEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('ready'));
      if (line) done({ child, ready: line });
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) => {
      fail(new Error(`kwire up exited with ${String(code)} before ready:\n${err}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((done) => {
    if (child.exitCode !== null) done(child.exitCode);
    else child.once('exit', (code) => { done(code); });
  });
}

describe.skipIf(reason !== undefined)('kwire up --dataplane linux, exec, down', () => {
  beforeAll(async () => {
    await kwire(['down', CLUSTER]);
  });
  afterAll(async () => {
    await kwire(['down', CLUSTER]);
    for (const ns of namespaces()) execFileSync('ip', ['netns', 'delete', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves a Service by its DNS name to curl in a pod, enforces the policy, and cleans up on SIGTERM', async () => {
    const { child, ready } = await startUp();
    try {
      expect(ready).toMatch(new RegExp(`^ready linux cluster ${CLUSTER}: 3 nodes, 14 pods`));
      const pods = await kwire(['get', 'pods', '-f', clusterFile, '-f', 'examples/course', '-l', 'app=frontend', '-o', 'name']);
      const frontend = pods.out.split('\n')[0]?.split('/')[1] ?? '';
      const ok = await kwire(['exec', `pod/default/${frontend}`, '--cluster', CLUSTER, '--', 'curl', '-s', '-m', '5', 'http://service1.default.svc.cluster.local/']);
      expect(ok.code).toBe(0);
      expect(ok.out).toMatch(/"pod":"default\/service1-/);
      const denied = await kwire(['exec', `pod/default/${frontend}`, '--cluster', CLUSTER, '--', 'curl', '-s', '-m', '2', 'http://api.secure/']);
      expect(denied.code).toBe(28);
      const trace = await kwire(['trace', `pod/default/${frontend}`, 'http://api.secure/', '-f', clusterFile, '-f', 'examples/course']);
      expect(trace.code).toBe(1);
      expect(trace.out).toContain('DENIED');
    } finally {
      child.kill('SIGTERM');
      await exited(child);
    }
    expect(namespaces()).toEqual([]);
  });

  it('refuses a second up of a running cluster, leaves the first untouched, and is stopped from another runtime dir', async () => {
    const { child } = await startUp();
    try {
      const second = await kwire(['up', '--dataplane', 'linux', '-f', clusterFile, '-f', 'examples/course']);
      expect(second.code).toBe(3);
      expect(second.err).toMatch(new RegExp(`cluster "${CLUSTER}" is already starting or running \\(pid ${String(child.pid)}\\)`));
      expect(second.err).not.toContain('internal error');
      const still = await kwire(['exec', 'external', '--cluster', CLUSTER, '--', 'curl', '-s', '-m', '5', 'http://domain1.bar.com/bar']);
      expect(still.out).toMatch(/"pod":"default\/service1-/);
      const elsewhere = { ...env, KWIRE_RUNTIME_DIR: join(dir, 'elsewhere') };
      const status = await new Promise<string>((done) => {
        execFile(process.execPath, [bin, 'status'], { cwd: root, env: elsewhere }, (_e, out) => {
          done(out);
        });
      });
      expect(status).toContain(`cluster ${CLUSTER}: running pid ${String(child.pid)}`);
      const down = await new Promise<number>((done) => {
        execFile(process.execPath, [bin, 'down', CLUSTER], { cwd: root, env: elsewhere }, (e) => {
          done(e ? Number(e.code) : 0);
        });
      });
      expect(down).toBe(0);
      expect(await exited(child)).toBe(0);
    } finally {
      child.kill('SIGTERM');
    }
    expect(namespaces()).toEqual([]);
  });

  it('a Ctrl-C while the cluster is being built ends quietly with 130 and removes everything', async () => {
    const child = spawn(process.execPath, [bin, 'up', '--dataplane', 'linux', '-f', clusterFile, '-f', 'examples/course'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((done) => {
      const check = (): void => {
        if (err.includes('building cluster')) done();
        else setTimeout(check, 20);
      };
      check();
    });
    await new Promise((r) => setTimeout(r, 150));
    process.kill(-(child.pid ?? 0), 'SIGINT');
    expect(await exited(child)).toBe(130);
    expect(err).not.toMatch(/internal error| {4}at /);
    expect(namespaces()).toEqual([]);
  });

  it('leaves nothing behind after kill -9 once `kwire down` has run', async () => {
    const { child } = await startUp();
    child.kill('SIGKILL');
    await exited(child);
    expect(namespaces().length).toBeGreaterThan(0);
    const down = await kwire(['down', CLUSTER]);
    expect(down.code).toBe(0);
    expect(namespaces()).toEqual([]);
  });
});
