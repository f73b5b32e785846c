/**
 * Renewal with fake timers: one timer per Certificate at its renewalTime (clamped to 2^31−1 ms and
 * re-armed), re-issuance through the lab ACME CA when due, retry timers after failures, and
 * `sync`/`stop` keeping or clearing timers. Only setTimeout and Date are faked; sockets are real.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createAcmeIssuer,
  createHttp01Responder,
  MAX_TIMER_MS,
  startLabAcmeServer,
  type IssuedSecret,
  type IssueFailure,
  type LabAcmeServer,
} from '../../src/acme/index.js';
import { acmeModel, startChallengeServer } from './support.js';

const DAY = 86_400_000;
const START = new Date('2026-03-01T00:00:00Z');
const responder = createHttp01Responder();
let challenge: Awaited<ReturnType<typeof startChallengeServer>>;
let lab: LabAcmeServer;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: START });
  challenge = await startChallengeServer(responder);
  lab = await startLabAcmeServer({ resolve: () => ({ host: '127.0.0.1', port: challenge.port }) });
});

afterAll(async () => {
  vi.useRealTimers();
  await lab.close();
  await challenge.close();
});

/** Collects callbacks and lets a test await the next one. */
function inbox<T>() {
  const items: T[] = [];
  const waiting: ((item: T) => void)[] = [];
  return {
    items,
    push: (item: T) => {
      items.push(item);
      waiting.shift()?.(item);
    },
    next: () => new Promise<T>((resolve) => waiting.push(resolve)),
  };
}

describe('renewal timers', () => {
  it('re-issues at renewalTime, re-arming across the 2^31−1 ms setTimeout limit', async () => {
    const issued = inbox<IssuedSecret>();
    const issuer = createAcmeIssuer({
      mode: 'lab',
      lab,
      responder,
      onIssued: issued.push,
      pollIntervalMs: 10,
    });
    const state = acmeModel(
      'https://acme-v02.api.letsencrypt.org/directory',
      [{ name: 'kuard', dnsNames: ['example.example.com'], privateKey: { algorithm: 'ECDSA' } }],
      START,
    );

    await issuer.sync(state);
    expect(issued.items).toHaveLength(1);
    const first = issued.items[0]!;
    expect(first.notBefore).toBe(START.toISOString());
    expect(first.renewalTime).toBe(new Date(START.getTime() + 60 * DAY).toISOString());
    expect(issuer.scheduled()).toEqual([
      { namespace: 'default', certificate: 'kuard', renewalTime: first.renewalTime },
    ]);
    expect(vi.getTimerCount()).toBe(1);

    await issuer.sync(state);
    expect(issued.items).toHaveLength(1);

    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(vi.getTimerCount()).toBe(1);
    expect(issued.items).toHaveLength(1);

    vi.advanceTimersByTime(Date.parse(first.renewalTime) - Date.now() - 1000);
    expect(issued.items).toHaveLength(1);

    const renewed = issued.next();
    vi.advanceTimersByTime(1000);
    const second = await renewed;
    expect(second.revision).toBe(2);
    expect(second.notBefore).toBe(first.renewalTime);
    expect(second.renewalTime).toBe(
      new Date(Date.parse(first.renewalTime) + 60 * DAY).toISOString(),
    );
    const serial = (s: IssuedSecret) => new X509Certificate(s.data['tls.crt']).serialNumber;
    expect(serial(second)).not.toBe(serial(first));
    expect(second.data['tls.key']).not.toBe(first.data['tls.key']);
    expect(vi.getTimerCount()).toBe(1);

    issuer.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps the private key when rotationPolicy is Never', async () => {
    const issued = inbox<IssuedSecret>();
    const issuer = createAcmeIssuer({
      mode: 'lab',
      lab,
      responder,
      onIssued: issued.push,
      pollIntervalMs: 10,
    });
    await issuer.sync(
      acmeModel(
        'https://acme.invalid/directory',
        [
          {
            name: 'steady',
            dnsNames: ['steady.example.com'],
            privateKey: { algorithm: 'ECDSA', rotationPolicy: 'Never' },
            renewBefore: '720h',
          },
        ],
        new Date(),
      ),
    );
    const first = issued.items[0]!;
    expect(Date.parse(first.notAfter) - Date.parse(first.renewalTime)).toBe(30 * DAY);
    const renewed = issued.next();
    vi.advanceTimersByTime(Date.parse(first.renewalTime) - Date.now());
    const second = await renewed;
    expect(second.data['tls.key']).toBe(first.data['tls.key']);
    expect(second.data['tls.crt']).not.toBe(first.data['tls.crt']);
    issuer.stop();
  });

  it('retries a failed issuance on a timer, doubling the delay; removing the Certificate clears it', async () => {
    const failures = inbox<IssueFailure>();
    const issuer = createAcmeIssuer({
      mode: 'lab',
      lab,
      responder,
      onIssued: () => undefined,
      onFailed: failures.push,
      pollIntervalMs: 10,
      retryDelayMs: 60_000,
    });
    await issuer.sync(
      acmeModel(
        'https://acme.invalid/directory',
        [{ name: 'wild', dnsNames: ['*.example.com'] }],
        new Date(),
      ),
    );
    expect(failures.items).toHaveLength(1);
    expect(failures.items[0]!.message).toContain('wildcard, which needs DNS-01');
    expect(Date.parse(failures.items[0]!.retryAt) - Date.now()).toBe(60_000);
    expect(vi.getTimerCount()).toBe(1);

    const again = failures.next();
    vi.advanceTimersByTime(60_000);
    const second = await again;
    expect(Date.parse(second.retryAt) - Date.now()).toBe(120_000);

    await issuer.sync(acmeModel('https://acme.invalid/directory', [], new Date()));
    expect(issuer.scheduled()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
