/**
 * `kwire demo` in-process: every real response agrees with its trace, including the connection
 * a NetworkPolicy drops.
 */
import { expect, it } from 'vitest';
import { runDemo } from '../../src/cli/demo/index.js';
import type { Io } from '../../src/cli/context.js';

it('runs the course end to end and agrees with every trace', async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: () => Promise.resolve(''), cwd: process.cwd(), color: false };
  const code = await runDemo({ filename: [], trace: true, deniedTimeout: 100, now: '2026-01-01T00:00:00Z', dataplane: 'sim' }, io);
  const text = out.join('\n');
  expect(text, `${text}\n${err.join('\n')}`).not.toContain('DISAGREES');
  expect(code).toBe(0);
  expect(text).toMatch(/GET https:\/\/example\.example\.com\/\n {2}response: 200 from pod default\/kuard-/);
  expect(text).toContain('[DNS:example.example.com]');
  expect(text).toMatch(/http:\/\/example\.example\.com\/\n {2}response: 308 → https:\/\/example\.example\.com\//);
  expect(text).toMatch(/response: no answer \(the connection timed out\): NetworkPolicy .*secure\/default-deny/);
  expect(text.match(/✓ agrees with the trace/g)).toHaveLength(14);
  expect(err.some((l) => l.startsWith('kwire demo: ready in'))).toBe(true);
});
