import { describe, expect, it } from 'vitest';
import type { IngressClassState, IngressControllerConfig } from '../../model/types.js';
import { resolveIngressClass } from './class.js';

const nginx: IngressControllerConfig = {
  name: 'ingress-nginx',
  flavour: 'nginx',
  className: 'nginx',
  controller: 'k8s.io/ingress-nginx',
  defaultClass: true,
  serviceType: 'LoadBalancer',
  hostPort: false,
};
const internal: IngressControllerConfig = {
  ...nginx,
  name: 'ingress-internal',
  className: 'internal',
  defaultClass: false,
};
const cls = (
  name: string,
  isDefault: boolean,
  controller = 'k8s.io/ingress-nginx',
): IngressClassState => ({
  name,
  controller,
  isDefault,
  implicit: false,
});

describe('resolveIngressClass', () => {
  const classes = [
    cls('nginx', true),
    cls('internal', false),
    cls('other', false, 'example.com/other'),
  ];
  const controllers = [nginx, internal];

  it.each([
    [
      'field',
      { ingressClassName: 'internal' },
      {},
      { className: 'internal', classFrom: 'ingressClassName', controller: 'ingress-internal' },
    ],
    [
      'field wins over the annotation',
      { ingressClassName: 'internal' },
      { 'kubernetes.io/ingress.class': 'nginx' },
      { className: 'internal', classFrom: 'ingressClassName', controller: 'ingress-internal' },
    ],
    [
      'annotation',
      {},
      { 'kubernetes.io/ingress.class': 'internal' },
      { className: 'internal', classFrom: 'annotation', controller: 'ingress-internal' },
    ],
    [
      'default class',
      {},
      {},
      { className: 'nginx', classFrom: 'default', controller: 'ingress-nginx' },
    ],
    [
      'unknown class',
      { ingressClassName: 'haproxy' },
      {},
      { className: 'haproxy', classFrom: 'ingressClassName' },
    ],
    [
      'class of a controller not installed',
      { ingressClassName: 'other' },
      {},
      { className: 'other', classFrom: 'ingressClassName' },
    ],
    [
      'unknown annotation class',
      {},
      { 'kubernetes.io/ingress.class': 'traefik' },
      { className: 'traefik', classFrom: 'annotation' },
    ],
  ] as [
    string,
    { ingressClassName?: string },
    Record<string, string>,
    { className: string; classFrom: string; controller?: string },
  ][])('%s', (_what, spec, annotations, want) => {
    const got = resolveIngressClass({ spec, annotations }, classes, controllers);
    expect({
      className: got.className,
      classFrom: got.classFrom,
      controller: got.controller,
    }).toEqual({ controller: undefined, ...want });
    expect(got.unservedReason === undefined).toBe(want.controller !== undefined);
  });

  it('several default classes: newest-by-name like the admission plugin, or refused like the docs', () => {
    const two = [cls('zeta', true), cls('alpha', true)];
    const zeta = { ...nginx, name: 'zeta-ctl', className: 'zeta' };
    const alpha = { ...nginx, name: 'alpha-ctl', className: 'alpha' };
    expect(resolveIngressClass({ spec: {}, annotations: {} }, two, [zeta, alpha]).controller).toBe(
      'alpha-ctl',
    );
    expect(
      resolveIngressClass({ spec: {}, annotations: {} }, two, [zeta, alpha], {
        multipleDefaults: 'refuse',
      }).controller,
    ).toBeUndefined();
  });

  it('no class and no default: served by nobody', () => {
    const got = resolveIngressClass(
      { spec: {}, annotations: {} },
      [cls('internal', false)],
      [internal],
    );
    expect(got).toEqual({
      unservedReason: 'the Ingress names no class and no IngressClass is the default',
    });
  });
});
