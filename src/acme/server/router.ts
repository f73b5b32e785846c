/**
 * Routing for the lab ACME CA: the directory and newNonce answer anyone; every other resource is
 * a JWS POST, newAccount signed with a JWK, the rest with an account's `kid`. Refusals become
 * RFC 7807 problem documents, anything else a `serverInternal` one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { account, newAccount, orderList } from './accounts.js';
import { authenticate, verifiedAccount } from './auth.js';
import { authorization, challenge } from './authorizations.js';
import { certificate, finalize, newOrder, order } from './orders.js';
import {
  problem,
  Refusal,
  send,
  sendProblem,
  url,
  type LabState,
  type ResourceRequest,
} from './state.js';

type ResourceHandler = (lab: LabState, request: ResourceRequest) => Promise<void> | void;

/** What handles a POST to `/<kind>/<id>`, by `kind`. */
const RESOURCES = {
  acct: account,
  order,
  orders: orderList,
  authz: authorization,
  chall: challenge,
  finalize,
  cert: certificate,
} as const satisfies Record<string, ResourceHandler>;

const MAX_BODY_BYTES = 65_536;

/** The HTTPS request listener of the lab CA over `lab`. */
export function requestListener(
  lab: LabState,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(lab, req, res).catch((err: unknown) => {
      answerFailure(lab, req, res, err);
    });
  };
}

/** Unsigned resources first (directory, newNonce); every other resource takes a JWS POST. */
async function route(lab: LabState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const [, kind = '', id, ...rest] = path.split('/');
  const method = req.method ?? 'GET';
  if (rest.length > 0) throw new Refusal('malformed', 404, `no resource ${JSON.stringify(path)}`);
  if (kind === 'directory' && id === undefined && (method === 'GET' || method === 'HEAD')) {
    directory(lab, res);
    return;
  }
  if (kind === 'new-nonce' && id === undefined) {
    newNonce(lab, res, method);
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
  await routePost(lab, req, res, { kind, id, body });
}

/** newAccount is authenticated by its JWK; every other POST by an account's `kid`. */
async function routePost(
  lab: LabState,
  req: IncomingMessage,
  res: ServerResponse,
  { kind, id, body }: { kind: string; id: string | undefined; body: string },
): Promise<void> {
  const jws = authenticate(lab, req, body, `${lab.origin}${req.url ?? ''}`);
  if (kind === 'new-account') {
    newAccount(lab, res, jws);
    return;
  }
  const account = verifiedAccount(lab, jws);
  const payload = jws.payload;
  if (kind === 'new-order') {
    newOrder(lab, { res, account, payload });
    return;
  }
  const handler: ResourceHandler | undefined = Object.hasOwn(RESOURCES, kind)
    ? RESOURCES[kind as keyof typeof RESOURCES]
    : undefined;
  if (id === undefined || handler === undefined) {
    throw new Refusal('malformed', 404, `no resource ${JSON.stringify(req.url)}`);
  }
  await handler(lab, { res, account, id, payload });
}

/** `GET /directory`: the URLs of newNonce, newAccount and newOrder. */
function directory(lab: LabState, res: ServerResponse): void {
  send(lab, res, 200, {
    newNonce: url(lab, 'new-nonce'),
    newAccount: url(lab, 'new-account'),
    newOrder: url(lab, 'new-order'),
    meta: { website: 'https://github.com/kwire', externalAccountRequired: false },
  });
}

/** `HEAD /new-nonce` (200) or `GET /new-nonce` (204): an empty answer carrying a Replay-Nonce. */
function newNonce(lab: LabState, res: ServerResponse, method: string): void {
  if (method === 'HEAD') send(lab, res, 200, '');
  else if (method === 'GET') send(lab, res, 204, '');
  else throw new Refusal('malformed', 405, 'newNonce takes HEAD or GET');
}

function answerFailure(
  lab: LabState,
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof Refusal) {
    sendProblem(lab, res, problem(err.acmeType, err.status, err.message));
    return;
  }
  lab.logger.warn(`lab ACME CA: ${req.method ?? ''} ${req.url ?? ''} failed: ${String(err)}`);
  sendProblem(lab, res, problem('serverInternal', 500, 'the lab ACME CA failed on this request'));
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
