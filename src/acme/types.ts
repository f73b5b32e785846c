/** Types shared by kwire's lab ACME CA, its ACME issuer and the ingress proxy that answers HTTP-01. */

/** Where progress and trouble are reported; library code never prints by itself. */
export interface AcmeLogger {
  info(message: string): void;
  warn(message: string): void;
}

/** What the ingress proxy reads to answer `GET /.well-known/acme-challenge/<token>`. */
export interface Http01Responder {
  /** The key authorization to answer for `token`, or undefined for 404. */
  get(token: string): string | undefined;
}

/** A responder the ACME issuer writes: it presents tokens while a challenge is pending. */
export interface Http01ResponderStore extends Http01Responder {
  set(token: string, keyAuthorization: string): void;
  delete(token: string): void;
}

/** A logger that drops everything. */
export const SILENT_LOGGER: AcmeLogger = {
  info: () => undefined,
  warn: () => undefined,
};

/** An in-memory HTTP-01 responder store, shared by the issuer (writer) and the proxy (reader). */
export function createHttp01Responder(): Http01ResponderStore {
  const tokens = new Map<string, string>();
  return {
    get: (token) => tokens.get(token),
    set: (token, keyAuthorization) => {
      tokens.set(token, keyAuthorization);
    },
    delete: (token) => {
      tokens.delete(token);
    },
  };
}

/** The path prefix HTTP-01 challenges are fetched under (RFC 8555 §8.3). */
export const HTTP01_PATH_PREFIX = '/.well-known/acme-challenge/';
