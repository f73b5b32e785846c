/**
 * kwire's ACME issuer against a real ACME server: Debian's Pebble, started here on free loopback
 * ports with pebble-challtestsrv as its DNS (every name → 127.0.0.1, no AAAA) and its HTTP-01 port
 * pointed at a stand-in for the ingress proxy. The issued chain must verify with `openssl verify`
 * against Pebble's root from its management interface.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, webcrypto } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAcmeIssuer,
  createHttp01Responder,
  type IssuedSecret,
  type IssueFailure,
} from '../../src/acme/index.js';
import { acmeModel, httpsCall, opensslVerify, pemBlocks, startChallengeServer } from './support.js';

const PEBBLE = '/usr/bin/pebble';
const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';
const hasPebble = existsSync(PEBBLE) && existsSync(CHALLTESTSRV);
if (!hasPebble) {
  console.warn(
    `skipping the Pebble ACME test: ${PEBBLE} or ${CHALLTESTSRV} is missing (apt-get install pebble pebble-challtestsrv)`,
  );
}

const children: ChildProcess[] = [];
let dir = '';
let closeChallenge: (() => Promise<void>) | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

/** A CA and a 127.0.0.1/localhost server certificate for Pebble's listeners. */
async function pebbleTls(): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=kwire test CA for Pebble',
    keys: caKeys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    subject: 'CN=localhost',
    issuer: ca.subjectName,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 3_600_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    caPem: ca.toString('pem') + '\n',
    certPem: leaf.toString('pem') + '\n',
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
  };
}

function start(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<void> {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      reject(new Error(`${command} did not start:\n${output}`));
    }, 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

describe.skipIf(!hasPebble)('kwire ACME issuer against Pebble', () => {
  const responder = createHttp01Responder();
  let tls: Awaited<ReturnType<typeof pebbleTls>>;
  let directoryUrl = '';
  let managementUrl = '';
  let challengeHosts: string[] = [];
  const issued: IssuedSecret[] = [];
  let results: readonly (IssuedSecret | IssueFailure)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kwire-pebble-'));
    tls = await pebbleTls();
    writeFileSync(join(dir, 'cert.pem'), tls.certPem);
    writeFileSync(join(dir, 'key.pem'), tls.keyPem);
    const challenge = await startChallengeServer(responder);
    closeChallenge = challenge.close;
    challengeHosts = challenge.hosts;
    const [acmePort, mgmtPort, dnsPort, srvMgmtPort, tlsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    writeFileSync(
      join(dir, 'pebble-config.json'),
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${acmePort}`,
          managementListenAddress: `127.0.0.1:${mgmtPort}`,
          certificate: join(dir, 'cert.pem'),
          privateKey: join(dir, 'key.pem'),
          httpPort: challenge.port,
          tlsPort,
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    await start(
      CHALLTESTSRV,
      [
        '-dns01',
        `127.0.0.1:${dnsPort}`,
        '-http01',
        '',
        '-https01',
        '',
        '-tlsalpn01',
        '',
        '-management',
        `127.0.0.1:${srvMgmtPort}`,
        '-defaultIPv4',
        '127.0.0.1',
        '-defaultIPv6',
        '',
      ],
      {},
      /Starting management server|DNS server listening|Answering/i,
    );
    await start(
      PEBBLE,
      ['-config', join(dir, 'pebble-config.json'), '-dnsserver', `127.0.0.1:${dnsPort}`],
      { PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0' },
      /Listening on/,
    );
    directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
    managementUrl = `https://127.0.0.1:${mgmtPort}`;

    const issuer = createAcmeIssuer({
      mode: 'live',
      responder,
      trustedCAs: [tls.caPem],
      onIssued: (s) => issued.push(s),
      pollIntervalMs: 250,
    });
    results = await issuer.sync(
      acmeModel(directoryUrl, [
        {
          name: 'wildcard-host',
          dnsNames: ['domain1.bar.com', 'domain2.foo.com'],
          privateKey: { algorithm: 'ECDSA' },
        },
      ]),
    );
    issuer.stop();
  }, 40_000);

  afterAll(async () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    }
    await closeChallenge?.();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('issues a certificate for two names, validating HTTP-01 through the stand-in proxy', () => {
    expect(results.map((r) => ('message' in r ? r.message : 'issued'))).toEqual(['issued']);
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({
      namespace: 'default',
      name: 'wildcard-host-tls',
      directoryUrl,
    });
    // Pebble sends Host with its httpPort, as a VA dialling a non-default port does.
    expect(new Set(challengeHosts.map((h) => h.replace(/:\d+$/, '')))).toEqual(
      new Set(['domain1.bar.com', 'domain2.foo.com']),
    );
  });

  it("the chain verifies with openssl against Pebble's root from /roots/0", async () => {
    const root = await httpsCall(`${managementUrl}/roots/0`, tls.caPem);
    const intermediate = await httpsCall(`${managementUrl}/intermediates/0`, tls.caPem);
    expect(root.status).toBe(200);
    expect(intermediate.status).toBe(200);
    const [leafPem, chainIntermediate] = pemBlocks(issued[0]!.data['tls.crt']);
    expect(opensslVerify(root.body, intermediate.body, leafPem!)).toBe('leaf.pem: OK\n');
    const leaf = new X509Certificate(leafPem!);
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual([
      'DNS:domain1.bar.com',
      'DNS:domain2.foo.com',
    ]);
    expect(leaf.checkIssued(new X509Certificate(chainIntermediate!))).toBe(true);
    expect(
      new X509Certificate(chainIntermediate!).verify(new X509Certificate(root.body).publicKey),
    ).toBe(true);
  });
});
