import { describe, expect, it } from 'vitest';
import type { LabelSelector, StringMap } from '../api/types.js';
import { compileNodeSelectorTerms, compileSelector, type NodeSelectorTerm } from './selectors.js';

const labels: StringMap = { app: 'web', tier: 'front' };

describe('compileSelector', () => {
  it.each([
    ['empty selects everything', {}, true, '<all>'],
    ['matchLabels', { matchLabels: { app: 'web' } }, true, 'app=web'],
    ['matchLabels mismatch', { matchLabels: { app: 'db' } }, false, 'app=db'],
    ['In', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'x'] }] }, true, 'tier in (front,x)'],
    ['NotIn', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false, 'tier notin (front)'],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true, 'zone notin (a)'],
    ['Exists', { matchExpressions: [{ key: 'app', operator: 'Exists' }] }, true, 'app'],
    ['DoesNotExist', { matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, false, '!app'],
    ['inherited keys are not labels', { matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, false, 'constructor'],
  ] as const)('%s', (_name, selector: LabelSelector, expected, text) => {
    const compiled = compileSelector(selector);
    expect(compiled.matches(labels)).toBe(expected);
    expect(compiled.text).toBe(text);
  });

  it('gives equal keys to selectors that select the same labels', () => {
    const a = compileSelector({ matchLabels: { a: '1', b: '2' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['x', 'y'] }] });
    const b = compileSelector({ matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }], matchLabels: { b: '2', a: '1' } });
    expect(a.key).toBe(b.key);
    expect(compileSelector(undefined).empty).toBe(true);
  });
});

describe('compileNodeSelectorTerms', () => {
  const node: StringMap = { 'kubernetes.io/arch': 'amd64', cores: '8' };
  it.each([
    ['Gt', [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }], true],
    ['Lt', [{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }], false],
    ['terms are ORed', [{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }, { matchExpressions: [{ key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] }] }], true],
    ['expressions are ANDed', [{ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }, { key: 'kubernetes.io/arch', operator: 'In', values: ['arm64'] }] }], false],
    ['an unknown operator never matches', [{ matchExpressions: [{ key: 'cores', operator: 'Near', values: ['8'] }] }], false],
  ] as const)('%s', (_name, terms: readonly NodeSelectorTerm[], expected) => {
    expect(compileNodeSelectorTerms(terms)(node)).toBe(expected);
  });
});
