/**
 * Order handlers of the lab ACME CA: newOrder (HTTP-01 names only), the order, finalize with a
 * CSR checked against the order, and the issued PEM chain.
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { owned } from './auth.js';
import { signLeaf } from './certs.js';
import {
  asRecord,
  DAY_MS,
  newId,
  Refusal,
  refreshOrder,
  send,
  url,
  type AccountRequest,
  type Challenge,
  type LabState,
  type Order,
  type ResourceRequest,
} from './state.js';
import { orderJson } from './views.js';

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** `POST /new-order`: a pending order with one authorization and HTTP-01 challenge per name. */
export function newOrder(lab: LabState, { res, account, payload }: AccountRequest): void {
  const body = asRecord(payload);
  const domains = orderedNames(body['identifiers']);
  const notAfter = requestedNotAfter(lab, body['notAfter']);
  const created = lab.now();
  const orderId = newId();
  const expires = new Date(created.getTime() + 7 * DAY_MS);
  const authorizations = domains.map((domain) => {
    const id = newId();
    const challenge: Challenge = {
      id: newId(),
      authz: id,
      token: randomBytes(32).toString('base64url'),
      status: 'pending',
    };
    lab.challenges.set(challenge.id, challenge);
    lab.authzs.set(id, {
      id,
      account: account.id,
      order: orderId,
      domain,
      expires,
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
    expires,
    ...(notAfter ? { notAfter } : {}),
    status: 'pending',
  };
  lab.orders.set(order.id, order);
  account.orders.push(order.id);
  send(lab, res, 201, orderJson(lab, order), { location: url(lab, 'order', order.id) });
}

/** `POST /order/<id>`: the order. */
export function order(lab: LabState, { res, account, id }: ResourceRequest): void {
  send(lab, res, 200, orderJson(lab, owned(lab.orders, id, account, 'order')));
}

/**
 * `POST /finalize/<id>`: signs the CSR's key for a ready order's names with the lab
 * intermediate; the order turns valid with its certificate URL.
 */
export async function finalize(
  lab: LabState,
  { res, account, id, payload }: ResourceRequest,
): Promise<void> {
  const order = owned(lab.orders, id, account, 'order');
  refreshOrder(lab, order);
  if (order.status !== 'ready') {
    throw new Refusal('orderNotReady', 403, `the order is ${order.status}, not ready`);
  }
  const csr = await verifiedCsr(asRecord(payload)['csr']);
  const commonName = matchCsrNames(csr, order);
  const spki = Buffer.from(csr.publicKey.rawData);
  const accountSpki = account.key.export({ type: 'spki', format: 'der' });
  if (spki.equals(accountSpki)) {
    throw new Refusal('badCSR', 400, 'the CSR key must not be the account key');
  }
  order.status = 'processing';
  const notBefore = new Date(Math.floor(lab.now().getTime() / 1000) * 1000);
  const notAfter = order.notAfter ?? new Date(notBefore.getTime() + lab.lifetimeMs);
  const cn = commonName ?? order.identifiers.find((n) => n.length <= 64);
  const leaf = await signLeaf({
    publicKey: csr.publicKey,
    dnsNames: order.identifiers,
    ...(cn === undefined ? {} : { commonName: cn.toLowerCase() }),
    notBefore,
    notAfter,
  });
  const certId = newId();
  lab.certificates.set(certId, { account: account.id, pem: leaf + lab.intermediatePem });
  order.certificate = certId;
  order.status = 'valid';
  lab.logger.info(
    `lab ACME CA: issued a certificate for ${order.identifiers.join(', ')} valid until ${notAfter.toISOString()}`,
  );
  send(lab, res, 200, orderJson(lab, order), { location: url(lab, 'order', order.id) });
}

/** `POST /cert/<id>`: the issued PEM chain, leaf then intermediate. */
export function certificate(lab: LabState, { res, account, id }: ResourceRequest): void {
  const cert = owned(lab.certificates, id, account, 'certificate');
  send(lab, res, 200, cert.pem, { 'content-type': 'application/pem-certificate-chain' });
}

/** The order's DNS names, lower-cased and deduplicated; wildcards and other types are refused. */
function orderedNames(identifiers: unknown): string[] {
  if (!Array.isArray(identifiers) || identifiers.length === 0) {
    throw new Refusal('malformed', 400, 'newOrder needs a non-empty "identifiers" array');
  }
  const domains: string[] = [];
  for (const raw of identifiers) {
    const { type, value } = asRecord(raw);
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
  return domains;
}

/** The `notAfter` an order asks for, which must be in the future. */
function requestedNotAfter(lab: LabState, requested: unknown): Date | undefined {
  if (requested === undefined) return undefined;
  const notAfter = new Date(typeof requested === 'string' ? requested : NaN);
  if (Number.isNaN(notAfter.getTime()) || notAfter <= lab.now()) {
    throw new Refusal(
      'malformed',
      400,
      `"notAfter" ${JSON.stringify(requested)} is not a future time`,
    );
  }
  return notAfter;
}

/** The finalize payload's CSR, parsed and its self-signature verified. */
async function verifiedCsr(csrText: unknown): Promise<x509.Pkcs10CertificateRequest> {
  if (typeof csrText !== 'string') throw new Refusal('malformed', 400, 'finalize needs a "csr"');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(Buffer.from(csrText, 'base64url'));
  } catch (err) {
    throw new Refusal('badCSR', 400, `the CSR does not parse: ${String(err)}`);
  }
  if (!(await csr.verify())) throw new Refusal('badCSR', 400, 'the CSR signature does not verify');
  return csr;
}

/** Refuses a CSR whose DNS names and CN differ from the order's names; returns its CN. */
function matchCsrNames(csr: x509.Pkcs10CertificateRequest, order: Order): string | undefined {
  const commonName = csr.subjectName.getField('CN')[0];
  const san = csr.getExtension('2.5.29.17');
  const sanNames = san instanceof x509.SubjectAlternativeNameExtension ? san.names.toJSON() : [];
  if (sanNames.some((n) => n.type !== 'dns')) {
    throw new Refusal('badCSR', 400, 'the CSR asks for names other than DNS names');
  }
  const requested = new Set(
    [...sanNames.map((n) => n.value), ...(commonName === undefined ? [] : [commonName])].map((n) =>
      n.toLowerCase(),
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
  return commonName;
}
