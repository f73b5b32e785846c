/**
 * Lint output formats as a registry keyed by the `-o` name.
 */
import { formatProblem, type Problem } from '../../api/problems.js';
import type { LintCheck } from './checks.js';

/** What a formatter needs besides the findings. */
export interface LintRenderContext {
  readonly checks: readonly LintCheck[];
  readonly version: string;
  /** Maps a finding's file to a repository-relative URI. */
  readonly repoPath: (file: string) => string;
}

function text(findings: readonly Problem[]): string {
  if (findings.length === 0) return 'no findings';
  const lines = findings.map((f) => `${f.severity.padEnd(7)} ${f.code.padEnd(16)} ${formatProblem(f)}`);
  const count = (s: string): number => findings.filter((f) => f.severity === s).length;
  lines.push('', `${findings.length} findings: ${count('error')} errors, ${count('warning')} warnings, ${count('info')} info`);
  return lines.join('\n');
}

function json(findings: readonly Problem[]): string {
  return JSON.stringify({ apiVersion: 'kwire.dev/v1alpha1', kind: 'LintReport', findings }, null, 2);
}

function sarif(findings: readonly Problem[], ctx: LintRenderContext): string {
  const ids = [...new Set(findings.map((f) => f.code))].sort();
  const summary = new Map(ctx.checks.map((c) => [c.id, c.summary]));
  const level = (s: Problem['severity']): string => (s === 'info' ? 'note' : s);
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'kwire',
            version: ctx.version,
            informationUri: 'https://kwire.dev',
            rules: ids.map((id) => ({ id, shortDescription: { text: summary.get(id) ?? id } })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.code,
          ruleIndex: ids.indexOf(f.code),
          level: level(f.severity),
          message: { text: [f.object ? `${f.object.kind} ${f.object.namespace ? `${f.object.namespace}/` : ''}${f.object.name}` : '', f.path ?? '', f.message].filter(Boolean).join(': ') + (f.hint ? `; ${f.hint}` : '') },
          ...(f.source
            ? {
                locations: [
                  {
                    physicalLocation: {
                      artifactLocation: { uri: ctx.repoPath(f.source.file), uriBaseId: '%SRCROOT%' },
                      region: { startLine: f.source.line, startColumn: f.source.column },
                    },
                  },
                ],
              }
            : {}),
        })),
      },
    ],
  };
  return JSON.stringify(log, null, 2);
}

function xml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function junit(findings: readonly Problem[]): string {
  const failures = findings.filter((f) => f.severity !== 'info');
  const cases = findings.map((f) => {
    const name = xml(`${f.code} ${f.object ? `${f.object.kind}/${f.object.namespace ?? ''}/${f.object.name}` : ''} ${f.path ?? ''}`.trim());
    const body = f.severity === 'info' ? '' : `<failure type="${f.severity}" message="${xml(f.message)}">${xml(formatProblem(f))}</failure>`;
    return `    <testcase classname="kwire.lint" name="${name}">${body}</testcase>`;
  });
  return [`<?xml version="1.0" encoding="UTF-8"?>`, `<testsuites>`, `  <testsuite name="kwire lint" tests="${findings.length}" failures="${failures.length}">`, ...cases, `  </testsuite>`, `</testsuites>`].join('\n');
}

/** Formatters by `-o` name. */
export const lintFormats = {
  text: (f: readonly Problem[]) => text(f),
  json: (f: readonly Problem[]) => json(f),
  sarif: (f: readonly Problem[], ctx: LintRenderContext) => sarif(f, ctx),
  junit: (f: readonly Problem[]) => junit(f),
} satisfies Record<string, (f: readonly Problem[], ctx: LintRenderContext) => string>;

/** The names `-o` accepts. */
export type LintFormat = keyof typeof lintFormats;
