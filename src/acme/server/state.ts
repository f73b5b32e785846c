/**
 * The lab ACME CA's state in one object (accounts, orders, authorizations, challenges,
 * certificates, nonces) and what every handler uses with it: URLs, ids, nonces, responses and
 * RFC 7807 problems.
 */
import { randomBytes, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { AcmeLogger } from '../types.js';
import type { Http01Fetch } from './http01.js';

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

/** The status of an ACME object (RFC 8555 §7.1.6). */
export type Status = 'pending' | 'ready' | 'processing' | 'valid' | 'invalid' | 'deactivated';

/** An ACME account, found by its id (the tail of its `kid` URL) or its key's thumbprint. */
export interface Account {
  readonly id: string;
  readonly key: KeyObject;
  readonly jwk: JsonWebKey;
  contact: string[];
  status: 'valid' | 'deactivated';
  readonly orders: string[];
}

/** The one HTTP-01 challenge of an authorization. */
export interface Challenge {
  readonly id: string;
  readonly authz: string;
  readonly token: string;
  status: Status;
  validated?: string;
  error?: AcmeProblem;
}

/** The authorization of one DNS name of an order. */
export interface Authorization {
  readonly id: string;
  readonly account: string;
  readonly order: string;
  readonly domain: string;
  readonly expires: Date;
  status: Status;
  readonly challenge: Challenge;
}

/** An order for a set of DNS names. */
export interface Order {
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

/** An issued PEM chain and the account that may download it. */
export interface IssuedChain {
  readonly account: string;
  readonly pem: string;
}

/** Everything the lab CA knows and is configured with; `origin` is set once it listens. */
export interface LabState {
  readonly now: () => Date;
  readonly logger: AcmeLogger;
  readonly fetch: Http01Fetch;
  readonly lifetimeMs: number;
  readonly validationTimeoutMs: number;
  /** Appended to every issued leaf. */
  readonly intermediatePem: string;
  /** `https://host:port`, no trailing slash. */
  origin: string;
  readonly nonces: Set<string>;
  readonly accounts: Map<string, Account>;
  readonly accountByThumbprint: Map<string, string>;
  readonly orders: Map<string, Order>;
  readonly authzs: Map<string, Authorization>;
  readonly challenges: Map<string, Challenge>;
  readonly certificates: Map<string, IssuedChain>;
}

/** A POST whose JWS verified against a valid account: where to answer, who asks, the payload. */
export interface AccountRequest {
  readonly res: ServerResponse;
  readonly account: Account;
  /** The JWS payload; `undefined` for POST-as-GET. */
  readonly payload: unknown;
}

/** An `AccountRequest` to one resource, `/<kind>/<id>`. */
export interface ResourceRequest extends AccountRequest {
  readonly id: string;
}

/** A request the lab CA refuses: answered as a problem document with this status. */
export class Refusal extends Error {
  constructor(
    readonly acmeType: AcmeErrorType,
    readonly status: number,
    detail: string,
  ) {
    super(detail);
  }
}

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;
const MAX_NONCES = 4096;

/** `<origin>/<kind>` or `<origin>/<kind>/<id>`. */
export function url(lab: LabState, kind: string, id?: string): string {
  return id === undefined ? `${lab.origin}/${kind}` : `${lab.origin}/${kind}/${id}`;
}

/** A fresh random id for an account, order, authorization, challenge or certificate. */
export function newId(): string {
  return randomBytes(12).toString('base64url');
}

/** A fresh nonce, remembered until used; the oldest is forgotten past `MAX_NONCES`. */
export function issueNonce(lab: LabState): string {
  const nonce = randomBytes(16).toString('base64url');
  lab.nonces.add(nonce);
  if (lab.nonces.size > MAX_NONCES) {
    const oldest = lab.nonces.values().next();
    if (oldest.done !== true) lab.nonces.delete(oldest.value);
  }
  return nonce;
}

/** Answers with `body` (JSON unless a string), a fresh Replay-Nonce and the directory link. */
export function send(
  lab: LabState,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body, null, 2);
  res.writeHead(status, {
    'replay-nonce': issueNonce(lab),
    link: `<${url(lab, 'directory')}>;rel="index"`,
    'cache-control': 'no-store',
    'content-type': 'application/json',
    ...headers,
  });
  res.end(text);
}

/** Answers with a problem document. */
export function sendProblem(lab: LabState, res: ServerResponse, problem: AcmeProblem): void {
  send(lab, res, problem.status, problem, { 'content-type': 'application/problem+json' });
}

/** The problem document for an ACME error type. */
export function problem(type: AcmeErrorType, status: number, detail: string): AcmeProblem {
  return { type: `urn:ietf:params:acme:error:${type}`, detail, status };
}

/**
 * Moves a pending or ready order on: invalid once expired or an authorization failed, ready once
 * every authorization is valid.
 */
export function refreshOrder(lab: LabState, order: Order): void {
  if (order.status === 'pending' || order.status === 'ready') {
    if (order.expires <= lab.now()) {
      order.status = 'invalid';
      order.error = problem('malformed', 403, 'the order expired');
      return;
    }
    const states = order.authorizations.map((id) => lab.authzs.get(id)?.status);
    if (states.some((s) => s !== 'valid' && s !== 'pending')) order.status = 'invalid';
    else if (states.every((s) => s === 'valid')) order.status = 'ready';
  }
}

/** A JWS payload as a JSON object, else a `malformed` refusal. */
export function asRecord(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Refusal('malformed', 400, 'the JWS payload must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Like `asRecord`, with an absent payload (POST-as-GET) read as `{}`. */
export function asRecordOrEmpty(value: unknown): Record<string, unknown> {
  return value === undefined ? {} : asRecord(value);
}
