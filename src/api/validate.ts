/**
 * Validation like the apiserver's for the kinds kwire understands: structure (via the schemas in
 * `kinds.ts`) and the semantic rules (names, labels, selectors, ports, CIDRs, Ingress rules).
 * Every problem carries the object, the field path and the source position of that field.
 */
import { bodyField, KINDS, topLevelSchemas } from './kinds.js';
import type { Problem, Severity } from './problems.js';
import { quote } from './problems.js';
import { checkSchema, type SchemaIssue } from './schema.js';
import { isIp, parseCidr, type Cidr } from '../model/ip.js';
import { compileSelector } from '../model/selectors.js';
import { formatPath, type FieldPath, type KubeObject, type LabelSelector, type ObjectMeta, type SourcePos, type StringMap } from './types.js';

/** An object together with its source positions. */
export interface LocatedObject {
  readonly object: KubeObject;
  readonly source: SourcePos;
  readonly locate: (path: FieldPath) => SourcePos;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** True for a DNS-1123 label (a Service or Namespace name). */
export function isDns1123Label(v: string): boolean {
  return v.length <= 63 && DNS1123_LABEL.test(v);
}

/** True for a DNS-1123 subdomain (most object names, Ingress hosts). */
export function isDns1123Subdomain(v: string): boolean {
  return v.length <= 253 && DNS1123_SUBDOMAIN.test(v);
}

/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(['Namespace', 'Service']);

/** Checks a label key (`prefix/name`) and returns what is wrong, if anything. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && !isDns1123Subdomain(prefix)) return `prefix part must be a DNS-1123 subdomain`;
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)";
  }
  return undefined;
}

/** Checks a label value. */
export function labelValueError(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !LABEL_NAME.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (at most 63)";
  }
  return undefined;
}


/** Collects problems for one object. */
class Checker {
  readonly problems: Problem[] = [];
  constructor(private readonly item: LocatedObject) {}

  add(path: FieldPath, message: string, hint?: string, severity: Severity = 'error', code = 'KW-VAL'): void {
    const o = this.item.object;
    this.problems.push({
      code,
      severity,
      message,
      hint,
      path: formatPath(path),
      source: this.item.locate(path),
      object: { kind: o.kind, namespace: o.metadata.namespace || undefined, name: o.metadata.name || '<unnamed>' },
    });
  }

  fromSchema(issues: readonly SchemaIssue[]): void {
    for (const i of issues) this.add(i.path, i.message, i.hint, i.severity, i.severity === 'error' ? 'KW-VAL' : 'KW-VAL-FIELD');
  }
}

/**
 * Normalizes `metadata` (name, namespace defaulted, labels/annotations as maps) and reports
 * problems in it. Returns the normalized object even when it has problems.
 */
export function normalizeMetadata(raw: Record<string, unknown>, defaultNamespace: string, namespaced: boolean): KubeObject {
  const meta = (typeof raw.metadata === 'object' && raw.metadata !== null && !Array.isArray(raw.metadata)
    ? raw.metadata
    : {}) as Record<string, unknown>;
  const asMap = (v: unknown): Record<string, string> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val === 'string') out[k] = val;
      else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    }
    return out;
  };
  const metadata: ObjectMeta = {
    ...(meta as Partial<ObjectMeta>),
    name: typeof meta.name === 'string' ? meta.name : '',
    namespace: namespaced ? (typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : defaultNamespace) : '',
    labels: asMap(meta.labels),
    annotations: asMap(meta.annotations),
  };
  return { ...raw, apiVersion: String(raw.apiVersion), kind: String(raw.kind), metadata };
}

function checkMetadata(c: Checker, raw: Record<string, unknown>, obj: KubeObject): void {
  const meta = raw.metadata;
  if (meta === undefined || meta === null) {
    c.add(['metadata'], 'Required value: metadata.name is required', 'add metadata: {name: ...}');
    return;
  }
  if (typeof meta !== 'object' || Array.isArray(meta)) {
    c.add(['metadata'], `must be an object (got ${quote(meta)})`);
    return;
  }
  const m = meta as Record<string, unknown>;
  if (m.name === undefined || m.name === null || m.name === '') {
    c.add(['metadata', 'name'], m.generateName ? 'Required value: generateName is not supported, give a name' : 'Required value: name or generateName is required');
  } else if (typeof m.name !== 'string') {
    c.add(['metadata', 'name'], `must be a string (got ${quote(m.name)})`);
  } else {
    const label = LABEL_NAMED.has(obj.kind);
    const max = label ? 63 : 253;
    const ok = label ? isDns1123Label(m.name) : isDns1123Subdomain(m.name);
    if (m.name.length > max) {
      c.add(['metadata', 'name'], `Invalid value: ${quote(m.name)}: must be no more than ${max} characters (got ${m.name.length})`, `shorten it to ${max} characters or fewer`);
    } else if (!ok) {
      c.add(
        ['metadata', 'name'],
        `Invalid value: ${quote(m.name)}: a lowercase RFC 1123 ${label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-'${label ? '' : " or '.'"}, and must start and end with an alphanumeric character`,
        `try ${quote(m.name.toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[-.]+|[-.]+$/g, '') || 'my-name')}`,
      );
    }
  }
  if (m.namespace !== undefined && m.namespace !== null) {
    if (typeof m.namespace !== 'string' || (m.namespace !== '' && !isDns1123Label(m.namespace))) {
      c.add(['metadata', 'namespace'], `Invalid value: ${quote(m.namespace)}: must be a DNS-1123 label`);
    }
  }
  for (const field of ['labels', 'annotations'] as const) {
    const v = m[field];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'object' || Array.isArray(v)) {
      c.add(['metadata', field], `must be a map of strings (got ${quote(v)})`);
      continue;
    }
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
      if (typeof val !== 'string') {
        c.add(['metadata', field, k], `must be a string (got ${typeof val} ${quote(val)})`, `quote the value: "${JSON.stringify(val) ?? typeof val}"`);
        continue;
      }
      const keyErr = labelKeyError(k);
      if (keyErr) c.add(['metadata', field, k], `Invalid value: ${quote(k)}: ${keyErr}`);
      if (field === 'labels') {
        const valErr = labelValueError(val);
        if (valErr) c.add(['metadata', field, k], `Invalid value: ${quote(val)}: ${valErr}`);
      }
    }
  }
}

/** Checks a label selector's semantics (keys, operators and values). */
function checkSelector(c: Checker, sel: unknown, path: FieldPath): void {
  if (typeof sel !== 'object' || sel === null) return;
  const s = sel as { matchLabels?: unknown; matchExpressions?: unknown };
  if (typeof s.matchLabels === 'object' && s.matchLabels !== null) {
    for (const [k, v] of Object.entries(s.matchLabels as Record<string, unknown>)) {
      const keyErr = labelKeyError(k);
      if (keyErr) c.add([...path, 'matchLabels', k], `Invalid value: ${quote(k)}: ${keyErr}`);
      if (typeof v === 'string') {
        const valErr = labelValueError(v);
        if (valErr) c.add([...path, 'matchLabels', k], `Invalid value: ${quote(v)}: ${valErr}`);
      }
    }
  }
  if (Array.isArray(s.matchExpressions)) {
    s.matchExpressions.forEach((e: unknown, i) => {
      if (typeof e !== 'object' || e === null) return;
      const req = e as { key?: unknown; operator?: unknown; values?: unknown };
      const p = [...path, 'matchExpressions', i];
      if (typeof req.key === 'string') {
        const keyErr = labelKeyError(req.key);
        if (keyErr) c.add([...p, 'key'], `Invalid value: ${quote(req.key)}: ${keyErr}`);
      }
      const values = Array.isArray(req.values) ? req.values : [];
      if ((req.operator === 'In' || req.operator === 'NotIn') && values.length === 0) {
        c.add([...p, 'values'], `Required value: must be specified when \`operator\` is 'In' or 'NotIn'`);
      }
      if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && values.length > 0) {
        c.add([...p, 'values'], `Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`);
      }
    });
  }
}

/** Where the pod template of a workload lives. */
export function templatePath(kind: string): FieldPath | undefined {
  switch (kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'Job':
    case 'ReplicationController':
      return ['spec', 'template'];
    case 'CronJob':
      return ['spec', 'jobTemplate', 'spec', 'template'];
    default:
      return undefined;
  }
}

function get(obj: unknown, path: FieldPath): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function checkPodSpec(c: Checker, spec: unknown, path: FieldPath): void {
  const containers = get(spec, ['containers']);
  if (Array.isArray(containers) && containers.length === 0) {
    c.add([...path, 'containers'], 'Required value: a pod needs at least one container');
  }
  const names = new Map<string, FieldPath>();
  const all = [
    ...(Array.isArray(containers) ? containers.map((ct, i) => [ct, [...path, 'containers', i]] as const) : []),
  ];
  for (const [ct, cpath] of all) {
    const ports = get(ct, ['ports']);
    if (!Array.isArray(ports)) continue;
    ports.forEach((p: unknown, i) => {
      const name = get(p, ['name']);
      if (typeof name !== 'string') return;
      const ppath = [...cpath, 'ports', i, 'name'];
      if (name.length > 15 || !IANA_SVC_NAME.test(name) || !/[a-z]/.test(name) || name.includes('--')) {
        c.add(ppath, `Invalid value: ${quote(name)}: a port name must be at most 15 lowercase letters, digits or '-', with at least one letter`);
      } else if (names.has(name)) {
        c.add(ppath, `Duplicate value: ${quote(name)}`, `already used at ${formatPath(names.get(name) ?? [])}`);
      } else names.set(name, ppath);
    });
  }
}

function labelsMatch(selector: unknown, labels: unknown): boolean {
  const ml = get(selector, ['matchLabels']);
  const me = get(selector, ['matchExpressions']);
  const compiled = compileSelector({
    ...(typeof ml === 'object' && ml !== null && !Array.isArray(ml) ? { matchLabels: ml as StringMap } : {}),
    ...(Array.isArray(me) ? { matchExpressions: me as LabelSelector['matchExpressions'] } : {}),
  });
  return compiled.matches((typeof labels === 'object' && labels !== null ? labels : {}) as StringMap);
}

function checkWorkload(c: Checker, o: KubeObject): void {
  const tpath = templatePath(o.kind);
  if (!tpath) return;
  checkPodSpec(c, get(o, [...tpath, 'spec']), [...tpath, 'spec']);
  const labels = get(o, [...tpath, 'metadata', 'labels']);
  if (o.kind === 'CronJob' || o.kind === 'Job') return;
  const selector = get(o, ['spec', 'selector']);
  if (o.kind === 'ReplicationController') {
    if (selector && !labelsMatch({ matchLabels: selector }, labels)) {
      c.add(['spec', 'template', 'metadata', 'labels'], '`selector` does not match template `labels`');
    }
    return;
  }
  if (selector === undefined) return;
  checkSelector(c, selector, ['spec', 'selector']);
  const ml = get(selector, ['matchLabels']);
  const me = get(selector, ['matchExpressions']);
  if ((ml === undefined || ml === null || Object.keys(ml).length === 0) && (!Array.isArray(me) || me.length === 0)) {
    c.add(['spec', 'selector'], 'Invalid value: empty selector is invalid for this workload', 'add matchLabels matching the template labels');
  } else if (!labelsMatch(selector, labels)) {
    c.add(['spec', 'template', 'metadata', 'labels'], `Invalid value: ${quote(labels ?? {})}: \`selector\` does not match template \`labels\``, 'make spec.selector.matchLabels a subset of the template labels');
  }
}

function checkService(c: Checker, o: KubeObject): void {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const type = (spec.type as string | undefined) ?? 'ClusterIP';
  const ports = Array.isArray(spec.ports) ? (spec.ports as Record<string, unknown>[]) : [];
  if (type === 'ExternalName') {
    const name = spec.externalName;
    if (typeof name !== 'string' || name === '') c.add(['spec', 'externalName'], 'Required value: an ExternalName Service needs spec.externalName');
    else if (!isDns1123Subdomain(name.replace(/\.$/, ''))) c.add(['spec', 'externalName'], `Invalid value: ${quote(name)}: must be a lowercase RFC 1123 hostname`);
    if (typeof spec.clusterIP === 'string' && spec.clusterIP !== '') c.add(['spec', 'clusterIP'], 'Forbidden: may not be set for type ExternalName');
  } else if (ports.length === 0 && spec.clusterIP !== 'None') {
    c.add(['spec', 'ports'], 'Required value: a Service needs at least one port (only headless Services may have none)');
  }
  const clusterIP = spec.clusterIP;
  if (typeof clusterIP === 'string' && clusterIP !== '' && clusterIP !== 'None' && !isIp(clusterIP)) {
    c.add(['spec', 'clusterIP'], `Invalid value: ${quote(clusterIP)}: must be empty, 'None', or a valid IP address`);
  }
  if (clusterIP === 'None' && (type === 'NodePort' || type === 'LoadBalancer')) {
    c.add(['spec', 'clusterIP'], `Invalid value: "None": may not be set to 'None' for ${type} services`);
  }
  const names = new Map<string, number>();
  const keys = new Map<string, number>();
  ports.forEach((p, i) => {
    if (typeof p !== 'object' || p === null) return;
    const name = p.name;
    if (ports.length > 1 && (name === undefined || name === '')) {
      c.add(['spec', 'ports', i, 'name'], 'Required value: every port needs a name when a Service has more than one', 'name the ports, e.g. "http" and "https"', 'error', 'KW-SVC005');
    }
    if (typeof name === 'string' && name !== '') {
      if (!IANA_SVC_NAME.test(name) || name.length > 63) c.add(['spec', 'ports', i, 'name'], `Invalid value: ${quote(name)}: must be a DNS-1123 label`);
      const prev = names.get(name);
      if (prev !== undefined) c.add(['spec', 'ports', i, 'name'], `Duplicate value: ${quote(name)}`, `also at spec.ports[${prev}]`);
      names.set(name, i);
    }
    const key = `${JSON.stringify(p.port) ?? ''}/${typeof p.protocol === 'string' ? p.protocol : 'TCP'}`;
    const prevKey = keys.get(key);
    if (prevKey !== undefined) c.add(['spec', 'ports', i], `Duplicate value: ${key}`, `also at spec.ports[${prevKey}]`);
    keys.set(key, i);
    const tp = p.targetPort;
    if (typeof tp === 'string' && (tp.length > 15 || !IANA_SVC_NAME.test(tp) || !/[a-z]/.test(tp))) {
      c.add(['spec', 'ports', i, 'targetPort'], `Invalid value: ${quote(tp)}: a port name must be at most 15 lowercase letters, digits or '-'`);
    }
    if (p.nodePort !== undefined && p.nodePort !== 0 && (type === 'ClusterIP' || type === 'ExternalName')) {
      c.add(['spec', 'ports', i, 'nodePort'], `Forbidden: may not be used when \`type\` is '${type}'`, 'use type NodePort or LoadBalancer');
    }
  });
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer' && !(Array.isArray(spec.externalIPs) && spec.externalIPs.length)) {
    c.add(['spec', 'externalTrafficPolicy'], `Invalid value: ${quote(spec.externalTrafficPolicy)}: may only be set for NodePort or LoadBalancer services or with externalIPs`);
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && type !== 'LoadBalancer') {
    c.add(['spec', 'allocateLoadBalancerNodePorts'], 'Forbidden: may only be used when `type` is \'LoadBalancer\'');
  }
  if (spec.loadBalancerClass !== undefined && type !== 'LoadBalancer') {
    c.add(['spec', 'loadBalancerClass'], 'Forbidden: may only be used when `type` is \'LoadBalancer\'');
  }
  (Array.isArray(spec.loadBalancerSourceRanges) ? spec.loadBalancerSourceRanges : []).forEach((r: unknown, i) => {
    if (typeof r === 'string' && !parseCidr(r)) c.add(['spec', 'loadBalancerSourceRanges', i], `Invalid value: ${quote(r)}: must be a CIDR such as "203.0.113.0/24"`);
  });
  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((r: unknown, i) => {
    if (typeof r === 'string' && !isIp(r)) c.add(['spec', 'externalIPs', i], `Invalid value: ${quote(r)}: must be a valid IP address`);
  });
}

function checkCidr(c: Checker, value: unknown, path: FieldPath): Cidr | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseCidr(value);
  if (!parsed) {
    const hint = isIp(value) ? `did you mean "${value}/${value.includes(':') ? 128 : 32}"?` : 'write a CIDR such as "10.0.0.0/24"';
    c.add(path, `Invalid value: ${quote(value)}: must be a valid CIDR`, hint);
  }
  return parsed;
}

function checkNetworkPolicy(c: Checker, o: KubeObject): void {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  checkSelector(c, spec.podSelector, ['spec', 'podSelector']);
  for (const dir of ['ingress', 'egress'] as const) {
    const rules = spec[dir];
    if (!Array.isArray(rules)) continue;
    const peersField = dir === 'ingress' ? 'from' : 'to';
    rules.forEach((rule: unknown, ri) => {
      const peers = get(rule, [peersField]);
      if (Array.isArray(peers)) {
        peers.forEach((peer: unknown, pi) => {
          const p = ['spec', dir, ri, peersField, pi];
          if (typeof peer !== 'object' || peer === null) return;
          const pe = peer as Record<string, unknown>;
          const set = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => pe[k] !== undefined && pe[k] !== null);
          if (set.length === 0) c.add(p, 'Required value: must specify a peer (podSelector, namespaceSelector or ipBlock)');
          if (pe.ipBlock !== undefined && set.length > 1) c.add(p, 'Forbidden: may not specify both ipBlock and another peer');
          checkSelector(c, pe.podSelector, [...p, 'podSelector']);
          checkSelector(c, pe.namespaceSelector, [...p, 'namespaceSelector']);
          const block = pe.ipBlock as { cidr?: unknown; except?: unknown } | undefined;
          if (block) {
            const cidr = checkCidr(c, block.cidr, [...p, 'ipBlock', 'cidr']);
            if (Array.isArray(block.except)) {
              block.except.forEach((ex: unknown, ei) => {
                const e = checkCidr(c, ex, [...p, 'ipBlock', 'except', ei]);
                if (cidr && e && (e.family !== cidr.family || e.prefix <= cidr.prefix || e.range[0] < cidr.range[0] || e.range[1] > cidr.range[1])) {
                  c.add([...p, 'ipBlock', 'except', ei], `Invalid value: ${quote(ex)}: must be a strict subset of \`cidr\` ${quote(block.cidr)}`);
                }
              });
            }
          }
        });
      }
      const ports = get(rule, ['ports']);
      if (Array.isArray(ports)) {
        ports.forEach((port: unknown, pi) => {
          const p = ['spec', dir, ri, 'ports', pi];
          const num = get(port, ['port']);
          const end = get(port, ['endPort']);
          if (end === undefined) return;
          if (typeof num === 'string') c.add([...p, 'endPort'], 'Invalid value: may not be specified when `port` is a named port');
          else if (num === undefined) c.add([...p, 'endPort'], 'Required value: may not be specified when `port` is not specified');
          else if (typeof num === 'number' && typeof end === 'number' && end < num) {
            c.add([...p, 'endPort'], `Invalid value: ${end}: must be greater than or equal to \`port\` ${num}`);
          }
        });
      }
    });
  }
}

/** Checks an Ingress or TLS host. */
function hostError(host: string): string | undefined {
  if (host.includes(':')) return 'must not include a port';
  if (isIp(host)) return 'must be a DNS name, not an IP address';
  const body = host.startsWith('*.') ? host.slice(2) : host;
  if (body.includes('*')) return "a wildcard is allowed only as the first label, as in '*.example.com'";
  if (!isDns1123Subdomain(body)) return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'";
  return undefined;
}

function checkBackend(c: Checker, b: unknown, path: FieldPath): void {
  if (typeof b !== 'object' || b === null) return;
  const be = b as { service?: { port?: { name?: unknown; number?: unknown } }; resource?: unknown };
  if (be.service && be.resource) c.add(path, 'Invalid value: cannot set both `service` and `resource` backends');
  if (!be.service && !be.resource) c.add(path, 'Invalid value: one backend (`service` or `resource`) must be specified');
  if (be.service) {
    const port = be.service.port;
    if (!port || (port.name === undefined && port.number === undefined)) {
      c.add([...path, 'service', 'port'], 'Required value: port name or number is required');
    } else if (port.name !== undefined && port.number !== undefined) {
      c.add([...path, 'service', 'port'], 'Invalid value: cannot set both port name & port number');
    }
  }
}

function checkIngress(c: Checker, o: KubeObject): void {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  const rules = Array.isArray(spec.rules) ? (spec.rules as Record<string, unknown>[]) : [];
  if (rules.length === 0 && !spec.defaultBackend) {
    c.add(['spec'], 'Invalid value: either `defaultBackend` or `rules` must be specified');
  }
  if (spec.ingressClassName !== undefined && o.metadata.annotations['kubernetes.io/ingress.class'] !== undefined) {
    c.add(['metadata', 'annotations', 'kubernetes.io/ingress.class'], 'Invalid value: can not be set when the class field is also set', 'remove the annotation; spec.ingressClassName is the current way');
  }
  checkBackend(c, spec.defaultBackend, ['spec', 'defaultBackend']);
  rules.forEach((rule, ri) => {
    if (typeof rule !== 'object' || rule === null) return;
    if (typeof rule.host === 'string' && rule.host !== '') {
      const err = hostError(rule.host);
      if (err) c.add(['spec', 'rules', ri, 'host'], `Invalid value: ${quote(rule.host)}: ${err}`);
    }
    const paths = get(rule, ['http', 'paths']);
    if (!Array.isArray(paths)) return;
    paths.forEach((p: unknown, pi) => {
      const pp = ['spec', 'rules', ri, 'http', 'paths', pi];
      const path = get(p, ['path']);
      const type = get(p, ['pathType']);
      checkBackend(c, get(p, ['backend']), [...pp, 'backend']);
      if (typeof path !== 'string') {
        if (type === 'Exact' || type === 'Prefix') c.add([...pp, 'path'], `Required value: must be an absolute path for pathType ${type}`);
        return;
      }
      if (path !== '' && !path.startsWith('/')) {
        c.add([...pp, 'path'], `Invalid value: ${quote(path)}: must be an absolute path`, `try "/${path}"`);
        return;
      }
      if (type === 'Exact' || type === 'Prefix') {
        if (path === '') c.add([...pp, 'path'], `Invalid value: "": must be an absolute path`);
        const bad = ['//', '/./', '/../', '%2f', '%2F'].find((s) => path.includes(s));
        if (bad) c.add([...pp, 'path'], `Invalid value: ${quote(path)}: must not contain '${bad}'`);
        else if (path.endsWith('/..') || path.endsWith('/.')) c.add([...pp, 'path'], `Invalid value: ${quote(path)}: must not end with '/..' or '/.'`);
      }
    });
  });
  (Array.isArray(spec.tls) ? spec.tls : []).forEach((t: unknown, ti) => {
    const hosts = get(t, ['hosts']);
    if (!Array.isArray(hosts)) return;
    hosts.forEach((h: unknown, hi) => {
      if (typeof h !== 'string') return;
      const err = hostError(h);
      if (err) c.add(['spec', 'tls', ti, 'hosts', hi], `Invalid value: ${quote(h)}: ${err}`);
    });
  });
}

function checkIPAddressPool(c: Checker, o: KubeObject): void {
  const addrs = get(o, ['spec', 'addresses']);
  if (!Array.isArray(addrs)) return;
  addrs.forEach((a: unknown, i) => {
    if (typeof a !== 'string') return;
    const dash = a.split('-');
    if (dash.length === 2 && !a.includes('/')) {
      const [lo, hi] = dash.map((x) => x.trim());
      if (!lo || !hi || !isIp(lo) || !isIp(hi)) c.add(['spec', 'addresses', i], `Invalid value: ${quote(a)}: a range must be "first-last" addresses`);
      return;
    }
    checkCidr(c, a, ['spec', 'addresses', i]);
  });
}

function checkCluster(c: Checker, o: KubeObject): void {
  const spec = (o.spec ?? {}) as Record<string, unknown>;
  for (const field of ['podCIDR', 'serviceCIDR'] as const) {
    if (spec[field] !== undefined) checkCidr(c, spec[field], ['spec', field]);
  }
  const range = spec.nodePortRange;
  if (range !== undefined) {
    const m = typeof range === 'string' ? /^(\d+)-(\d+)$/.exec(range) : null;
    const lo = Number(m?.[1]);
    const hi = Number(m?.[2]);
    if (!m || lo < 1 || hi > 65535 || lo >= hi) c.add(['spec', 'nodePortRange'], `Invalid value: ${quote(range)}: must be "FIRST-LAST" within 1-65535`, 'e.g. "30000-32767"');
  }
  const nodes = spec.nodes;
  if (nodes !== undefined && !(typeof nodes === 'number' && Number.isInteger(nodes) && nodes >= 1 && nodes <= 250) && !Array.isArray(nodes)) {
    c.add(['spec', 'nodes'], `Invalid value: ${quote(nodes)}: must be a count (1-250) or a list of nodes`);
  }
  if (Array.isArray(nodes)) {
    nodes.forEach((n: unknown, i) => {
      const name = get(n, ['name']);
      if (typeof name !== 'string' || !isDns1123Subdomain(name)) c.add(['spec', 'nodes', i, 'name'], `Invalid value: ${quote(name)}: every node needs a DNS-1123 name`);
    });
  }
}

/** Validates one object. Unknown kinds give no problems here (the loader reports them once). */
export function validateObject(item: LocatedObject, raw: Record<string, unknown>): Problem[] {
  const c = new Checker(item);
  const o = item.object;
  checkMetadata(c, raw, o);
  const info = KINDS.get(o.kind);
  if (!info) return c.problems;
  if (!info.groups.includes(o.apiVersion)) {
    c.add(['apiVersion'], `Invalid value: ${quote(o.apiVersion)}: no kind "${o.kind}" is registered for this version`, `use apiVersion ${info.groups.map((g) => `"${g}"`).join(' or ')}`);
    return c.problems;
  }
  const field = bodyField(o.kind);
  const issues: SchemaIssue[] = [];
  if (field) {
    const body = raw[field];
    if ((body === undefined || body === null) && o.kind !== 'Namespace' && o.kind !== 'Node' && o.kind !== 'Cluster') {
      const requiresSpec = !['IngressClass', 'L2Advertisement', 'BGPAdvertisement'].includes(o.kind);
      if (requiresSpec) issues.push({ path: [field], message: 'Required value', severity: 'error' });
    }
    checkSchema(body, info.schema, [field], issues);
  } else {
    const top = topLevelSchemas[o.kind];
    if (top) checkSchema(raw, top, [], issues);
  }
  c.fromSchema(issues);
  if (issues.some((i) => i.severity === 'error')) return c.problems;
  switch (o.kind) {
    case 'Service':
      checkService(c, o);
      break;
    case 'Pod':
      checkPodSpec(c, o.spec, ['spec']);
      break;
    case 'NetworkPolicy':
      checkNetworkPolicy(c, o);
      break;
    case 'Ingress':
      checkIngress(c, o);
      break;
    case 'IPAddressPool':
      checkIPAddressPool(c, o);
      break;
    case 'Cluster':
      checkCluster(c, o);
      break;
    default:
      checkWorkload(c, o);
  }
  return c.problems;
}
