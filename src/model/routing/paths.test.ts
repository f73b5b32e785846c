import { describe, expect, it } from 'vitest';
import {
  elementPrefix,
  exactPath,
  matchesPath,
  nginxRegexPath,
  pathOnly,
  stringPrefix,
} from './paths.js';
import { normalizeHost } from './route.js';

describe('matchesPath', () => {
  it.each([
    ['Exact', exactPath('/foo'), '/foo', true],
    ['Exact', exactPath('/foo'), '/foo/', false],
    ['Exact', exactPath('/foo/'), '/foo', false],
    ['Exact', exactPath('/foo'), '/FOO', false],
    ['Prefix', elementPrefix('/'), '/anything/at/all', true],
    ['Prefix', elementPrefix('/foo'), '/foo', true],
    ['Prefix', elementPrefix('/foo'), '/foo/', true],
    ['Prefix', elementPrefix('/foo/'), '/foo', true],
    ['Prefix', elementPrefix('/aaa/bb'), '/aaa/bbb', false],
    ['Prefix', elementPrefix('/aaa/bbb'), '/aaa/bbbxyz', false],
    ['Prefix', elementPrefix('/aaa/bbb'), '/aaa/bbb/ccc', true],
    ['Prefix', elementPrefix(''), '/x', true],
    ['PathPrefix', stringPrefix('/v1'), '/v11', true],
    ['PathPrefix', stringPrefix('/v1'), '/v2', false],
    ['nginx regex', nginxRegexPath('/foo'), '/FOObar', true],
    ['nginx regex', nginxRegexPath('/foo'), '/x/foo', false],
  ])('%s %j against %s → %s', (_kind, match, path, want) => {
    if (!match) throw new Error('pattern did not compile');
    expect(matchesPath(match, path)).toBe(want);
  });

  it('an invalid regex does not compile', () => {
    expect(nginxRegexPath('/api/(')).toBeUndefined();
  });
});

describe('request normalization', () => {
  it.each([
    ['/a?b=1', '/a'],
    ['/a#frag', '/a'],
    ['', '/'],
    ['?x', '/'],
  ])('path of %j is %j', (target, path) => {
    expect(pathOnly(target)).toBe(path);
  });

  it.each([
    ['Foo.Example.COM:8443', 'foo.example.com'],
    ['foo.example.com.', 'foo.example.com'],
    ['[::1]:80', '[::1]'],
    [undefined, ''],
    [null, ''],
  ])('host %j is %j', (host, want) => {
    expect(normalizeHost(host)).toBe(want);
  });
});
