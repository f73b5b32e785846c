/**
 * Who is asking: the JWS of a POST checked for content type, nonce and URL, the account behind
 * its `kid`, and whether that account owns what it asks for.
 */
import type { IncomingMessage } from 'node:http';
import { JwsError, parseJws, verifyJws, type ParsedJws } from '../jws.js';
import { Refusal, url, type Account, type LabState } from './state.js';

/**
 * Parses the JWS of a POST, uses up its nonce and checks it was signed for `requestUrl`; the
 * signature is checked later against the account or the given JWK.
 */
export function authenticate(
  lab: LabState,
  req: IncomingMessage,
  body: string,
  requestUrl: string,
): ParsedJws {
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
  if (!lab.nonces.delete(jws.header.nonce)) {
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
}

/** The valid account named by the JWS `kid`, whose key verifies the signature. */
export function verifiedAccount(lab: LabState, jws: ParsedJws): Account {
  const kid = jws.header.kid;
  if (kid === undefined) {
    throw new Refusal('malformed', 400, 'this request must be signed with "kid", the account URL');
  }
  const prefix = url(lab, 'acct', '');
  const account = kid.startsWith(prefix) ? lab.accounts.get(kid.slice(prefix.length)) : undefined;
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
}

/** The `what` with this id, if `account` owns it: 404 when unknown, 403 when another's. */
export function owned<T extends { readonly account: string }>(
  map: ReadonlyMap<string, T>,
  id: string,
  account: Account,
  what: string,
): T {
  const item = map.get(id);
  if (!item) throw new Refusal('malformed', 404, `no ${what} ${JSON.stringify(id)}`);
  if (item.account !== account.id) {
    throw new Refusal('unauthorized', 403, `the ${what} belongs to another account`);
  }
  return item;
}

/** Refuses unless `id` is the account's own (its URL or its orders list). */
export function ownAccount(account: Account, id: string): void {
  if (id !== account.id) throw new Refusal('unauthorized', 403, 'this is not your account');
}
