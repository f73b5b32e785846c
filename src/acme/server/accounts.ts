/** Account handlers of the lab ACME CA: newAccount, the account URL and its orders list. */
import type { ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { JwsError, jwkThumbprint, publicKeyOfJwk, verifyJws, type ParsedJws } from '../jws.js';
import { ownAccount } from './auth.js';
import {
  asRecord,
  newId,
  Refusal,
  send,
  url,
  type Account,
  type LabState,
  type ResourceRequest,
} from './state.js';
import { accountJson } from './views.js';

/**
 * `POST /new-account`, signed with a JWK: the existing account of that key (200), or a new one
 * (201) unless `onlyReturnExisting` is set.
 */
export function newAccount(lab: LabState, res: ServerResponse, jws: ParsedJws): void {
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
  const existing = lab.accounts.get(lab.accountByThumbprint.get(thumbprint) ?? '');
  if (existing) {
    send(lab, res, 200, accountJson(lab, existing), { location: url(lab, 'acct', existing.id) });
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
  lab.accounts.set(account.id, account);
  lab.accountByThumbprint.set(thumbprint, account.id);
  lab.logger.info(
    `lab ACME CA: account ${account.id} created (${account.contact.join(', ') || 'no contact'})`,
  );
  send(lab, res, 201, accountJson(lab, account), { location: url(lab, 'acct', account.id) });
}

/** `POST /acct/<id>`: the account, after updating its contacts or deactivating it if asked. */
export function account(lab: LabState, { res, account, id, payload }: ResourceRequest): void {
  ownAccount(account, id);
  if (payload !== undefined) {
    const update = asRecord(payload);
    if (update['contact'] !== undefined) account.contact = contactsOf(update['contact']);
    if (update['status'] === 'deactivated') account.status = 'deactivated';
  }
  send(lab, res, 200, accountJson(lab, account), { location: url(lab, 'acct', account.id) });
}

/** `POST /orders/<account id>`: the URLs of the account's orders. */
export function orderList(lab: LabState, { res, account, id }: ResourceRequest): void {
  ownAccount(account, id);
  send(lab, res, 200, { orders: account.orders.map((o) => url(lab, 'order', o)) });
}

/** The `contact` of an account payload: mailto: URLs only. */
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
