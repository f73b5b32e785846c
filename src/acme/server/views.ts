/** The JSON the lab ACME CA answers with for accounts, orders, authorizations and challenges. */
import {
  refreshOrder,
  url,
  type Account,
  type Authorization,
  type Challenge,
  type LabState,
  type Order,
} from './state.js';

/** An order object (RFC 8555 §7.1.3), refreshed first. */
export function orderJson(lab: LabState, order: Order): unknown {
  refreshOrder(lab, order);
  return {
    status: order.status,
    expires: order.expires.toISOString(),
    identifiers: order.identifiers.map((value) => ({ type: 'dns', value })),
    ...(order.notAfter ? { notAfter: order.notAfter.toISOString() } : {}),
    authorizations: order.authorizations.map((id) => url(lab, 'authz', id)),
    finalize: url(lab, 'finalize', order.id),
    ...(order.certificate ? { certificate: url(lab, 'cert', order.certificate) } : {}),
    ...(order.error ? { error: order.error } : {}),
  };
}

/** A challenge object (RFC 8555 §7.1.5), always `http-01`. */
export function challengeJson(lab: LabState, ch: Challenge): unknown {
  return {
    type: 'http-01',
    url: url(lab, 'chall', ch.id),
    token: ch.token,
    status: ch.status,
    ...(ch.validated ? { validated: ch.validated } : {}),
    ...(ch.error ? { error: ch.error } : {}),
  };
}

/** An authorization object (RFC 8555 §7.1.4) with its one challenge. */
export function authzJson(lab: LabState, authz: Authorization): unknown {
  return {
    identifier: { type: 'dns', value: authz.domain },
    status: authz.status,
    expires: authz.expires.toISOString(),
    challenges: [challengeJson(lab, authz.challenge)],
  };
}

/** An account object (RFC 8555 §7.1.2). */
export function accountJson(lab: LabState, account: Account): unknown {
  return {
    status: account.status,
    contact: account.contact,
    orders: url(lab, 'orders', account.id),
  };
}
