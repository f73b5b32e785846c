/**
 * kwire's lab ACME CA: an RFC 8555 server on loopback HTTPS that does what cert-manager needs —
 * directory, nonces, accounts (ES256/ES384/ES512/RS256 JWS), orders, authorizations, HTTP-01
 * validated for real through a resolver (the ingress proxy), finalize and the PEM chain signed by
 * the model's lab intermediate. Errors are RFC 7807 problem documents.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import {
  JwsError,
  jwkThumbprint,
  keyAuthorization,
  parseJws,
  publicKeyOfJwk,
  verifyJws,
  type ParsedJws,
} from '../jws.js';
import { SILENT_LOGGER, type AcmeLogger } from '../types.js';
import { labSigner, serverCertificate, signLeaf } from './certs.js';
import { validateHttp01, type Http01Resolver } from './http01.js';

export type { Http01Resolver, Http01Target, Http01Outcome } from './http01.js';

/** Options of `startLabAcmeServer`. */
export interface LabAcmeServerOptions {
  /** Where HTTP-01 validation connects for a domain: the ingress proxy's HTTP listener. */
  readonly resolve: Http01Resolver;
  /** Listen address. @default '127.0.0.1' */
  readonly host?: string;
  /** Listen port. @default 0 (a free port) */
  readonly port?: number;
  /** Lifetime of issued certificates unless the order asks for a shorter `notAfter`. @default 90 days */
  readonly certificateLifetimeMs?: number;
  /** How long one HTTP-01 fetch may take. @default 10000 */
  readonly validationTimeoutMs?: number;
  /** The clock. @default () => new Date() */
  readonly now?: () => Date;
  /** @default silent */
  readonly logger?: AcmeLogger;
}

/** A running lab ACME CA. */
export interface LabAcmeServer {
  /** `https://127.0.0.1:PORT/directory`. */
  readonly directoryUrl: string;
  /** The lab root (PEM) that clients trust for this server's TLS and for issued chains. */
  readonly rootPem: string;
  /** The lab intermediate (PEM) that signs issued leaves. */
  readonly intermediatePem: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** ACME error types the lab CA answers with (`urn:ietf:params:acme:error:<type>`). */
export type AcmeErrorType =
  | 'accountDoesNotExist'
  | 'badCSR'
  | 'badNonce'
  | 'badSignatureAlgorithm'
  | 'connection'
  | 'incorrectResponse'
  | 'malformed'
  | 'orderNotReady'
  | 'rejectedIdentifier'
  | 'serverInternal'
  | 'unauthorized'
  | 'unsupportedIdentifier';

/** An RFC 7807 problem document with an ACME error type. */
export interface AcmeProblem {
  readonly type: string;
  readonly detail: string;
  readonly status: number;
}

type Status = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid' | 'deactivated';

interface Account {
  readonly id: string;
  readonly key: KeyObject;
  readonly jwk: JsonWebKey;
  contact: string[];
  status: 'valid' | 'deactivated';
  readonly orders: string[];
}

interface Challenge {
  readonly id: string;
  readonly authz: string;
  readonly token: string;
  status: Status;
  validated?: string;
  error?: AcmeProblem;
}

interface Authorization {
  readonly id: string;
  readonly account: string;
  readonly order: string;
  readonly domain: string;
  readonly expires: Date;
  status: Status;
  readonly challenge: Challenge;
}

interface Order {
  readonly id: string;
  readonly account: string;
  readonly identifiers: readonly string[];
  readonly authorizations: readonly string[];
  readonly expires: Date;
  readonly notAfter?: Date;
  status: Status;
  certificate?: string;
  error?: AcmeProblem;
}

class Refusal extends Error {
  constructor(
    readonly acmeType: AcmeErrorType,
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

const MAX_BODY_BYTES = 65_536;
const MAX_NONCES = 4096;
const DAY_MS = 86_400_000;
const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** Starts the lab ACME CA on loopback HTTPS; resolves once it listens. */
export async function startLabAcmeServer(options: LabAcmeServerOptions): Promise<LabAcmeServer> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const logger = options.logger ?? SILENT_LOGGER;
  const lifetimeMs = options.certificateLifetimeMs ?? 90 * DAY_MS;
  const validationTimeoutMs = options.validationTimeoutMs ?? 10_000;
  const lab = await labSigner();
  const tls = await serverCertificate(host, now());

  const nonces = new Set<string>();
  const accounts = new Map<string, Account>();
  const accountByThumbprint = new Map<string, string>();
  const orders = new Map<string, Order>();
  const authzs = new Map<string, Authorization>();
  const challenges = new Map<string, Challenge>();
  const certificates = new Map<string, { account: string; pem: string }>();
  let origin = '';

  const url = (kind: string, id?: string): string =>
    id === undefined ? `${origin}/${kind}` : `${origin}/${kind}/${id}`;
  const newId = (): string => randomBytes(12).toString('base64url');
  const newNonce = (): string => {
    const nonce = randomBytes(16).toString('base64url');
    nonces.add(nonce);
    if (nonces.size > MAX_NONCES) {
      const oldest = nonces.values().next();
      if (oldest.done !== true) nonces.delete(oldest.value);
    }
    return nonce;
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void => {
    const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
    res.writeHead(status, {
      'replay-nonce': newNonce(),
      link: `<${url('directory')}>;rel="index"`,
      'cache-control': 'no-store',
      'content-type': 'application/json',
      ...headers,
    });
    res.end(text);
  };

  const sendProblem = (res: ServerResponse, problem: AcmeProblem): void => {
    send(res, problem.status, problem, { 'content-type': 'application/problem+json' });
  };

  const problem = (type: AcmeErrorType, status: number, detail: string): AcmeProblem => ({
    type: `urn:ietf:params:acme:error:${type}`,
    detail,
    status,
  });

  const refreshOrder = (order: Order): void => {
    if (order.status === 'pending' || order.status === 'ready') {
      if (order.expires <= now()) {
        order.status = 'invalid';
        order.error = problem('malformed', 403, 'the order expired');
        return;
      }
      const states = order.authorizations.map((id) => authzs.get(id)?.status);
      if (states.some((s) => s !== 'valid' && s !== 'pending')) order.status = 'invalid';
      else if (states.every((s) => s === 'valid')) order.status = 'ready';
    }
  };

  const orderJson = (order: Order): unknown => {
    refreshOrder(order);
    return {
      status: order.status,
      expires: order.expires.toISOString(),
      identifiers: order.identifiers.map((value) => ({ type: 'dns', value })),
      ...(order.notAfter ? { notAfter: order.notAfter.toISOString() } : {}),
      authorizations: order.authorizations.map((id) => url('authz', id)),
      finalize: url('finalize', order.id),
      ...(order.certificate ? { certificate: url('cert', order.certificate) } : {}),
      ...(order.error ? { error: order.error } : {}),
    };
  };

  const challengeJson = (ch: Challenge): unknown => ({
    type: 'http-01',
    url: url('chall', ch.id),
    token: ch.token,
    status: ch.status,
    ...(ch.validated ? { validated: ch.validated } : {}),
    ...(ch.error ? { error: ch.error } : {}),
  });

  const authzJson = (authz: Authorization): unknown => ({
    identifier: { type: 'dns', value: authz.domain },
    status: authz.status,
    expires: authz.expires.toISOString(),
    challenges: [challengeJson(authz.challenge)],
  });

  const accountJson = (account: Account): unknown => ({
    status: account.status,
    contact: account.contact,
    orders: url('orders', account.id),
  });

  const owned = <T extends { account: string }>(
    map: ReadonlyMap<string, T>,
    id: string,
    account: Account,
    what: string,
  ): T => {
    const item = map.get(id);
    if (!item) throw new Refusal('malformed', 404, `no ${what} ${JSON.stringify(id)}`);
    if (item.account !== account.id) {
      throw new Refusal('unauthorized', 403, `the ${what} belongs to another account`);
    }
    return item;
  };

  const authenticate = (req: IncomingMessage, body: string, requestUrl: string) => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
    if (contentType !== 'application/jose+json') {
      throw new Refusal(
        'malformed',
        415,
        `Content-Type must be application/jose+json, not ${JSON.stringify(contentType)}`,
      );
    }
    let jws: ParsedJws;
    try {
      jws = parseJws(body);
    } catch (err) {
      if (err instanceof JwsError)
        throw new Refusal(err.type, err.type === 'unauthorized' ? 403 : 400, err.message);
      throw err;
    }
    if (!nonces.delete(jws.header.nonce)) {
      throw new Refusal(
        'badNonce',
        400,
        `the nonce ${JSON.stringify(jws.header.nonce)} is unknown or used`,
      );
    }
    if (jws.header.url !== requestUrl) {
      throw new Refusal(
        'unauthorized',
        403,
        `the JWS "url" ${JSON.stringify(jws.header.url)} is not the request URL ${JSON.stringify(requestUrl)}`,
      );
    }
    return jws;
  };

  const verifiedAccount = (jws: ParsedJws): Account => {
    const kid = jws.header.kid;
    if (kid === undefined) {
      throw new Refusal(
        'malformed',
        400,
        'this request must be signed with "kid", the account URL',
      );
    }
    const prefix = url('acct', '');
    const account = kid.startsWith(prefix) ? accounts.get(kid.slice(prefix.length)) : undefined;
    if (!account) {
      throw new Refusal('accountDoesNotExist', 400, `no account ${JSON.stringify(kid)}`);
    }
    if (!verifyJws(jws, account.key)) {
      throw new Refusal('malformed', 400, 'the JWS signature does not verify with the account key');
    }
    if (account.status !== 'valid') {
      throw new Refusal('unauthorized', 403, `the account is ${account.status}`);
    }
    return account;
  };

  const newAccount = (res: ServerResponse, jws: ParsedJws): void => {
    const jwk = jws.header.jwk;
    if (jwk === undefined) {
      throw new Refusal('malformed', 400, 'newAccount must be signed with "jwk", not "kid"');
    }
    let key: KeyObject;
    try {
      key = publicKeyOfJwk(jwk);
    } catch (err) {
      if (err instanceof JwsError) throw new Refusal(err.type, 400, err.message);
      throw err;
    }
    if (!verifyJws(jws, key)) {
      throw new Refusal('malformed', 400, 'the JWS signature does not verify with the given JWK');
    }
    const payload = asRecord(jws.payload ?? {});
    const thumbprint = jwkThumbprint(jwk);
    const existing = accounts.get(accountByThumbprint.get(thumbprint) ?? '');
    if (existing) {
      send(res, 200, accountJson(existing), { location: url('acct', existing.id) });
      return;
    }
    if (payload['onlyReturnExisting'] === true) {
      throw new Refusal('accountDoesNotExist', 400, 'no account exists for this key');
    }
    const account: Account = {
      id: newId(),
      key,
      jwk,
      contact: contactsOf(payload['contact']),
      status: 'valid',
      orders: [],
    };
    accounts.set(account.id, account);
    accountByThumbprint.set(thumbprint, account.id);
    logger.info(
      `lab ACME CA: account ${account.id} created (${account.contact.join(', ') || 'no contact'})`,
    );
    send(res, 201, accountJson(account), { location: url('acct', account.id) });
  };

  const updateAccount = (res: ServerResponse, account: Account, payload: unknown): void => {
    if (payload !== undefined) {
      const update = asRecord(payload);
      if (update['contact'] !== undefined) account.contact = contactsOf(update['contact']);
      if (update['status'] === 'deactivated') account.status = 'deactivated';
    }
    send(res, 200, accountJson(account), { location: url('acct', account.id) });
  };

  const newOrder = (res: ServerResponse, account: Account, payload: unknown): void => {
    const body = asRecord(payload);
    const identifiers = body['identifiers'];
    if (!Array.isArray(identifiers) || identifiers.length === 0) {
      throw new Refusal('malformed', 400, 'newOrder needs a non-empty "identifiers" array');
    }
    const domains: string[] = [];
    for (const raw of identifiers) {
      const identifier = asRecord(raw);
      const { type, value } = identifier;
      if (type !== 'dns') {
        throw new Refusal(
          'unsupportedIdentifier',
          400,
          `identifier type ${JSON.stringify(type)} is not supported; the lab ACME CA issues for "dns" names`,
        );
      }
      if (typeof value !== 'string')
        throw new Refusal('malformed', 400, 'an identifier has no "value"');
      const domain = value.toLowerCase();
      if (domain.startsWith('*.')) {
        throw new Refusal(
          'rejectedIdentifier',
          400,
          `${JSON.stringify(value)} is a wildcard, which needs DNS-01; the lab ACME CA validates HTTP-01 only`,
        );
      }
      if (!DNS_NAME.test(domain)) {
        throw new Refusal(
          'rejectedIdentifier',
          400,
          `${JSON.stringify(value)} is not a valid DNS name`,
        );
      }
      if (!domains.includes(domain)) domains.push(domain);
    }
    let notAfter: Date | undefined;
    const requestedNotAfter = body['notAfter'];
    if (requestedNotAfter !== undefined) {
      notAfter = new Date(typeof requestedNotAfter === 'string' ? requestedNotAfter : NaN);
      if (Number.isNaN(notAfter.getTime()) || notAfter <= now()) {
        throw new Refusal(
          'malformed',
          400,
          `"notAfter" ${JSON.stringify(requestedNotAfter)} is not a future time`,
        );
      }
    }
    const created = now();
    const orderId = newId();
    const authorizations = domains.map((domain) => {
      const id = newId();
      const challenge: Challenge = {
        id: newId(),
        authz: id,
        token: randomBytes(32).toString('base64url'),
        status: 'pending',
      };
      challenges.set(challenge.id, challenge);
      authzs.set(id, {
        id,
        account: account.id,
        order: orderId,
        domain,
        expires: new Date(created.getTime() + 7 * DAY_MS),
        status: 'pending',
        challenge,
      });
      return id;
    });
    const order: Order = {
      id: orderId,
      account: account.id,
      identifiers: domains,
      authorizations,
      expires: new Date(created.getTime() + 7 * DAY_MS),
      ...(notAfter ? { notAfter } : {}),
      status: 'pending',
    };
    orders.set(order.id, order);
    account.orders.push(order.id);
    send(res, 201, orderJson(order), { location: url('order', order.id) });
  };

  const respondToChallenge = async (
    res: ServerResponse,
    account: Account,
    id: string,
    payload: unknown,
  ): Promise<void> => {
    const ch = challenges.get(id);
    const authz = ch ? authzs.get(ch.authz) : undefined;
    if (!ch || !authz) throw new Refusal('malformed', 404, `no challenge ${JSON.stringify(id)}`);
    if (authz.account !== account.id) {
      throw new Refusal('unauthorized', 403, 'the challenge belongs to another account');
    }
    if (payload !== undefined && ch.status === 'pending' && authz.status === 'pending') {
      ch.status = 'processing';
      const expected = keyAuthorization(ch.token, account.jwk);
      const outcome = await validateHttp01(
        authz.domain,
        ch.token,
        expected,
        options.resolve,
        validationTimeoutMs,
      );
      if (outcome.ok) {
        ch.status = 'valid';
        ch.validated = now().toISOString();
        authz.status = 'valid';
        logger.info(`lab ACME CA: HTTP-01 for ${authz.domain} valid`);
      } else {
        ch.status = 'invalid';
        ch.error = problem(outcome.type, 403, outcome.detail);
        authz.status = 'invalid';
        const order = orders.get(authz.order);
        if (order) {
          order.status = 'invalid';
          order.error = problem(
            outcome.type,
            403,
            `authorization for ${authz.domain} failed: ${outcome.detail}`,
          );
        }
        logger.warn(`lab ACME CA: HTTP-01 for ${authz.domain} invalid: ${outcome.detail}`);
      }
    }
    send(res, 200, challengeJson(ch), { link: `<${url('authz', authz.id)}>;rel="up"` });
  };

  const finalize = async (res: ServerResponse, account: Account, id: string, payload: unknown) => {
    const order = owned(orders, id, account, 'order');
    refreshOrder(order);
    if (order.status !== 'ready') {
      throw new Refusal('orderNotReady', 403, `the order is ${order.status}, not ready`);
    }
    const csrText = asRecord(payload)['csr'];
    if (typeof csrText !== 'string') throw new Refusal('malformed', 400, 'finalize needs a "csr"');
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(Buffer.from(csrText, 'base64url'));
    } catch (err) {
      throw new Refusal('badCSR', 400, `the CSR does not parse: ${String(err)}`);
    }
    if (!(await csr.verify()))
      throw new Refusal('badCSR', 400, 'the CSR signature does not verify');
    const commonName = csr.subjectName.getField('CN')[0];
    const san = csr.getExtension('2.5.29.17');
    const sanNames = san instanceof x509.SubjectAlternativeNameExtension ? san.names.toJSON() : [];
    if (sanNames.some((n) => n.type !== 'dns')) {
      throw new Refusal('badCSR', 400, 'the CSR asks for names other than DNS names');
    }
    const requested = new Set(
      [...sanNames.map((n) => n.value), ...(commonName === undefined ? [] : [commonName])].map(
        (n) => n.toLowerCase(),
      ),
    );
    const ordered = new Set(order.identifiers);
    const missing = order.identifiers.filter((n) => !requested.has(n));
    const extra = [...requested].filter((n) => !ordered.has(n));
    if (missing.length > 0 || extra.length > 0) {
      throw new Refusal(
        'badCSR',
        400,
        `the CSR names do not match the order: ${[
          ...(missing.length > 0 ? [`missing ${missing.join(', ')}`] : []),
          ...(extra.length > 0 ? [`not in the order ${extra.join(', ')}`] : []),
        ].join('; ')}`,
      );
    }
    const spki = Buffer.from(csr.publicKey.rawData);
    const accountSpki = account.key.export({ type: 'spki', format: 'der' });
    if (spki.equals(accountSpki)) {
      throw new Refusal('badCSR', 400, 'the CSR key must not be the account key');
    }
    order.status = 'processing';
    const notBefore = new Date(Math.floor(now().getTime() / 1000) * 1000);
    const notAfter = order.notAfter ?? new Date(notBefore.getTime() + lifetimeMs);
    const cn = commonName ?? order.identifiers.find((n) => n.length <= 64);
    const leaf = await signLeaf({
      publicKey: csr.publicKey,
      dnsNames: order.identifiers,
      ...(cn === undefined ? {} : { commonName: cn.toLowerCase() }),
      notBefore,
      notAfter,
    });
    const certId = newId();
    certificates.set(certId, { account: account.id, pem: leaf + lab.intermediatePem });
    order.certificate = certId;
    order.status = 'valid';
    logger.info(
      `lab ACME CA: issued a certificate for ${order.identifiers.join(', ')} valid until ${notAfter.toISOString()}`,
    );
    send(res, 200, orderJson(order), { location: url('order', order.id) });
  };

  const handlePost = async (
    req: IncomingMessage,
    res: ServerResponse,
    kind: string,
    id: string | undefined,
    body: string,
  ): Promise<void> => {
    const jws = authenticate(req, body, `${origin}${req.url ?? ''}`);
    if (kind === 'new-account') {
      newAccount(res, jws);
      return;
    }
    const account = verifiedAccount(jws);
    if (kind === 'new-order') {
      newOrder(res, account, jws.payload);
      return;
    }
    if (id === undefined)
      throw new Refusal('malformed', 404, `no resource ${JSON.stringify(req.url)}`);
    switch (kind) {
      case 'acct':
        if (id !== account.id) throw new Refusal('unauthorized', 403, 'this is not your account');
        updateAccount(res, account, jws.payload);
        return;
      case 'order':
        send(res, 200, orderJson(owned(orders, id, account, 'order')));
        return;
      case 'orders':
        if (id !== account.id) throw new Refusal('unauthorized', 403, 'this is not your account');
        send(res, 200, { orders: account.orders.map((o) => url('order', o)) });
        return;
      case 'authz': {
        const authz = owned(authzs, id, account, 'authorization');
        if (asRecordOrEmpty(jws.payload)['status'] === 'deactivated') authz.status = 'deactivated';
        send(res, 200, authzJson(authz));
        return;
      }
      case 'chall':
        await respondToChallenge(res, account, id, jws.payload);
        return;
      case 'finalize':
        await finalize(res, account, id, jws.payload);
        return;
      case 'cert': {
        const cert = owned(certificates, id, account, 'certificate');
        send(res, 200, cert.pem, { 'content-type': 'application/pem-certificate-chain' });
        return;
      }
      default:
        throw new Refusal('malformed', 404, `no resource ${JSON.stringify(req.url)}`);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const [, kind = '', id, ...rest] = path.split('/');
    const method = req.method ?? 'GET';
    if (rest.length > 0) throw new Refusal('malformed', 404, `no resource ${JSON.stringify(path)}`);
    if (kind === 'directory' && id === undefined && (method === 'GET' || method === 'HEAD')) {
      send(res, 200, {
        newNonce: url('new-nonce'),
        newAccount: url('new-account'),
        newOrder: url('new-order'),
        meta: { website: 'https://github.com/kwire', externalAccountRequired: false },
      });
      return;
    }
    if (kind === 'new-nonce' && id === undefined) {
      if (method === 'HEAD') send(res, 200, '');
      else if (method === 'GET') send(res, 204, '');
      else throw new Refusal('malformed', 405, 'newNonce takes HEAD or GET');
      return;
    }
    if (method !== 'POST') {
      throw new Refusal(
        'malformed',
        405,
        `${method} ${path}: ACME resources take POST (RFC 8555 §6.3)`,
      );
    }
    const body = await readBody(req);
    await handlePost(req, res, kind, id, body);
  };

  const server: Server = createServer(
    { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof Refusal)
          sendProblem(res, problem(err.acmeType, err.status, err.message));
        else {
          logger.warn(`lab ACME CA: ${req.method ?? ''} ${req.url ?? ''} failed: ${String(err)}`);
          sendProblem(
            res,
            problem('serverInternal', 500, 'the lab ACME CA failed on this request'),
          );
        }
      });
    },
  );
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `https://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  logger.info(`lab ACME CA listening at ${url('directory')}`);
  return {
    directoryUrl: url('directory'),
    rootPem: lab.rootPem,
    intermediatePem: lab.intermediatePem,
    close: () =>
      new Promise<void>((done) => {
        server.close(() => {
          done();
        });
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(
          new Refusal('malformed', 413, `the request body is larger than ${MAX_BODY_BYTES} bytes`),
        );
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      resolveBody(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Refusal('malformed', 400, 'the JWS payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}

function asRecordOrEmpty(value: unknown): Record<string, unknown> {
  return value === undefined ? {} : asRecord(value);
}

function contactsOf(value: unknown): string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.some((c) => typeof c !== 'string' || !c.startsWith('mailto:'))
  ) {
    throw new Refusal('malformed', 400, '"contact" must be a list of mailto: URLs');
  }
  return value as string[];
}
