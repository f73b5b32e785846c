/**
 * ACME for `kwire up`: the lab ACME CA (an RFC 8555 server signing with the model's lab chain), the
 * ACME issuer that obtains and renews the model's Certificates with acme-client, and the HTTP-01
 * responder the ingress proxy answers `/.well-known/acme-challenge/<token>` from.
 */
export { startLabAcmeServer } from './server/index.js';
export { resolverFetch } from './server/http01.js';
export type {
  LabAcmeServer,
  LabAcmeServerOptions,
  AcmeErrorType,
  AcmeProblem,
  Http01Fetch,
  Http01Resolver,
  Http01Response,
  Http01Target,
} from './server/index.js';
export { createAcmeIssuer, renewalTimeOf, namesOf, MAX_TIMER_MS } from './issuer/index.js';
export type {
  AcmeIssuer,
  AcmeIssuerOptions,
  AcmeMode,
  IssuedSecret,
  IssueFailure,
  LabDirectory,
  ScheduledCertificate,
} from './issuer/index.js';
export { createHttp01Responder, HTTP01_PATH_PREFIX, SILENT_LOGGER } from './types.js';
export type { AcmeLogger, Http01Responder, Http01ResponderStore } from './types.js';
export { jwkThumbprint, keyAuthorization } from './jws.js';
