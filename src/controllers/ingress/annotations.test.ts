import { describe, expect, it } from 'vitest';
import { parseNginxSize } from './annotations.js';

describe('nginx sizes', () => {
  it.each([
    ['1m', 1048576],
    ['10K', 10240],
    ['2g', 2 * 1024 ** 3],
    ['12', 12],
    ['1.5m', undefined],
    ['m', undefined],
  ])('nginx size %s is %s bytes', (text, bytes) => {
    expect(parseNginxSize(text)).toBe(bytes);
  });
});
