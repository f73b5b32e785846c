/** Authorization and challenge handlers of the lab ACME CA; HTTP-01 is validated for real. */
import { keyAuthorization } from '../jws.js';
import { owned } from './auth.js';
import { validateHttp01 } from './http01.js';
import {
  asRecordOrEmpty,
  problem,
  Refusal,
  send,
  url,
  type Account,
  type Authorization,
  type Challenge,
  type LabState,
  type ResourceRequest,
} from './state.js';
import { authzJson, challengeJson } from './views.js';

/** `POST /authz/<id>`: the authorization, deactivated first if the payload asks. */
export function authorization(lab: LabState, { res, account, id, payload }: ResourceRequest): void {
  const authz = owned(lab.authzs, id, account, 'authorization');
  if (asRecordOrEmpty(payload)['status'] === 'deactivated') authz.status = 'deactivated';
  send(lab, res, 200, authzJson(lab, authz));
}

/**
 * `POST /chall/<id>`: with a payload, validates a pending challenge over HTTP-01 before answering;
 * POST-as-GET only reads it.
 */
export async function challenge(
  lab: LabState,
  { res, account, id, payload }: ResourceRequest,
): Promise<void> {
  const ch = lab.challenges.get(id);
  const authz = ch ? lab.authzs.get(ch.authz) : undefined;
  if (!ch || !authz) throw new Refusal('malformed', 404, `no challenge ${JSON.stringify(id)}`);
  if (authz.account !== account.id) {
    throw new Refusal('unauthorized', 403, 'the challenge belongs to another account');
  }
  if (payload !== undefined && ch.status === 'pending' && authz.status === 'pending') {
    await validate(lab, account, authz, ch);
  }
  send(lab, res, 200, challengeJson(lab, ch), {
    link: `<${url(lab, 'authz', authz.id)}>;rel="up"`,
  });
}

/** Fetches the HTTP-01 key authorization; a failure invalidates the authorization and order. */
async function validate(
  lab: LabState,
  account: Account,
  authz: Authorization,
  ch: Challenge,
): Promise<void> {
  ch.status = 'processing';
  const expected = keyAuthorization(ch.token, account.jwk);
  const outcome = await validateHttp01(
    authz.domain,
    ch.token,
    expected,
    lab.fetch,
    lab.validationTimeoutMs,
  );
  if (outcome.ok) {
    ch.status = 'valid';
    ch.validated = lab.now().toISOString();
    authz.status = 'valid';
    lab.logger.info(`lab ACME CA: HTTP-01 for ${authz.domain} valid`);
    return;
  }
  ch.status = 'invalid';
  ch.error = problem(outcome.type, 403, outcome.detail);
  authz.status = 'invalid';
  const order = lab.orders.get(authz.order);
  if (order) {
    order.status = 'invalid';
    order.error = problem(
      outcome.type,
      403,
      `authorization for ${authz.domain} failed: ${outcome.detail}`,
    );
  }
  lab.logger.warn(`lab ACME CA: HTTP-01 for ${authz.domain} invalid: ${outcome.detail}`);
}
