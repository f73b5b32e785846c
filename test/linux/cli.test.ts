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

function startUp(): Promise<{ child: ChildProcess; ready: string }> {
  const child = spawn(process.execPath, [bin, 'up', '--dataplane', 'linux', '-f', clusterFile, '-f', 'examples/course'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
