import { describe, expect, it } from 'vitest';
import { conformancePath } from './conformance.js';

describe('conformancePath', () => {
  it('finds the data folders of the repository', () => {
    for (const folder of ['course', 'ingress-docs', 'netpol-e2e']) expect(conformancePath(folder)).toMatch(new RegExp(`conformance/${folder}$`));
  });

  it('names the missing part and how to restore it instead of ENOENT', () => {
    expect(() => conformancePath('ingress-docs', 'no-such-scenario', 'input.yaml')).toThrow('conformance/ingress-docs/no-such-scenario is missing: it is part of the repository (git checkout -- conformance)');
  });
});
