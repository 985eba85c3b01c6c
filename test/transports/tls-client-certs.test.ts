/**
 * Client certificates on a TLS listener, checked against both our broker and Debian's 2.0.11:
 * - a client whose user name comes from its certificate keeps its connection across a SIGHUP
 *   (Mosquitto re-reads the name from the certificate and checks no password for it);
 * - crlfile with a root and a signing CA, the CRL from the signing CA only (OpenSSL's
 *   X509_V_FLAG_CRL_CHECK: only the client's own certificate is looked up), re-read on SIGHUP;
 * - a refused certificate gets the TLS alert OpenSSL sends for it (expired, revoked, unknown
 *   CA, none sent), which the client reports as the reason. The oracle is compared on TLS 1.2:
 *   on TLS 1.3 Mosquitto closes right after its alert and a client may see the reset first.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { join } from 'node:path';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { passwordLine } from '../auth/helpers.js';
import { hasOpenssl, makeChainCertificates, makeTestCertificates, type ChainCertificates, type TestCertificates } from './certs.js';
import { eventually, logLines, runBrokerToExit } from './helpers.js';

const skip = !hasOpenssl() ? 'openssl not installed' : false;
let certs: TestCertificates;
let chain: ChainCertificates;
before(() => {
  if (skip) return;
  certs = makeTestCertificates();
  chain = makeChainCertificates();
});
after(() => {
  certs?.remove();
  chain?.remove();
});

const targets = [{ name: 'skeeter', oracle: false }];
if (hasDebianMosquitto()) targets.push({ name: 'debian mosquitto 2.0.11 (oracle)', oracle: true });

const hex = (b: Buffer | null): string => (b === null ? 'CLOSED' : b.toString('hex'));

async function sighup(broker: RunningBroker): Promise<void> {
  const before = broker.stderr().split('Reloading config.').length;
  process.kill(broker.pid, 'SIGHUP');
  await eventually(() => broker.stderr().split('Reloading config.').length > before, 5000, 'the reload line');
}

for (const target of targets) {
  describe(`client certificates [${target.name}]`, () => {
    for (const option of ['use_identity_as_username', 'use_subject_as_username']) {
      test(`${option}: a SIGHUP keeps the certificate client; a password client that no longer passes is dropped`, { skip, timeout: 30_000 }, async () => {
        const pw = join(certs.dir, `${target.oracle ? 'o' : 's'}-${option}.pw`);
        // The certificate's user is in the file with a password the client never sends.
        const certUser = option === 'use_identity_as_username' ? certs.clientCommonName : certs.clientSubject;
        writeFileSync(pw, [passwordLine(certUser, 'not-sent'), passwordLine('plain', 'plain-pw')].join('\n') + '\n');
        const tlsPort = await freePort();
        const broker = await startBroker({
          oracle: target.oracle,
          verbose: true,
          config: [
            `password_file ${pw}`,
            'allow_anonymous false',
            `listener ${tlsPort} 127.0.0.1`,
            `cafile ${certs.caCert}`,
            `certfile ${certs.serverCert}`,
            `keyfile ${certs.serverKey}`,
            'require_certificate true',
            `${option} true`,
          ],
        });
        const clients: RawClient[] = [];
        try {
          await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
          const tls = await RawClient.openTls(tlsPort, {
            ca: readFileSync(certs.caCert),
            cert: readFileSync(certs.clientCert),
            key: readFileSync(certs.clientKey),
          });
          clients.push(tls);
          tls.send(m.connect(4, { clientId: 'by-cert' }));
          assert.equal(hex(await tls.next()), hex(m.connack(4, 0)));
          const plain = await RawClient.open(broker.port);
          clients.push(plain);
          plain.send(m.connect(4, { clientId: 'by-password', username: 'plain', password: 'plain-pw' }));
          assert.equal(hex(await plain.next()), hex(m.connack(4, 0)));
          // "plain" leaves the file; the reload must drop it and keep the certificate client.
          writeFileSync(pw, passwordLine(certUser, 'not-sent') + '\n');
          await sighup(broker);
          assert.ok(await plain.closedWithin(5000), 'the password client is disconnected');
          tls.send(m.pingreq());
          assert.equal(hex(await tls.next()), hex(m.pingresp()));
        } finally {
          for (const c of clients) c.close();
          await broker.stop();
        }
      });
    }
  });
}

/**
 * How a Node client fares: `connack <rc>` when the broker answers its CONNECT, else the TLS
 * error it reports (the alert's name, ERR_SSL_..._ALERT_...) or how the connection ended.
 */
function outcome(port: number, options: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), 5000);
    s.once('secureConnect', () => s.write(m.connect(4, { clientId: 'cert-check' })));
    s.once('data', (d: Buffer) => done(d[0] === 0x20 ? `connack ${d[3]}` : `packet ${d.toString('hex')}`));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
    s.once('close', () => done('closed'));
  });
}

const REVOKED = 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED';
const EXPIRED = 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED';
const UNKNOWN_CA = 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA';

async function startChainBroker(oracle: boolean, lines: string[]): Promise<{ broker: RunningBroker; tlsPort: number }> {
  const tlsPort = await freePort();
  const broker = await startBroker({
    oracle,
    verbose: true,
    config: [`listener ${tlsPort} 127.0.0.1`, `cafile ${chain.clientCa}`, `certfile ${chain.serverCert}`, `keyfile ${chain.serverKey}`, ...lines],
  });
  await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
  return { broker, tlsPort };
}

const as = (name: 'client' | 'revoked' | 'expired', maxVersion: 'TLSv1.2' | 'TLSv1.3'): ConnectionOptions => ({
  ca: readFileSync(chain.rootCert),
  cert: readFileSync(chain[`${name}Cert`]),
  key: readFileSync(chain[`${name}Key`]),
  maxVersion,
});

for (const target of targets) {
  // The oracle's TLS 1.3 refusals race its close (see the header): it is compared on TLS 1.2.
  const versions = target.oracle ? (['TLSv1.2'] as const) : (['TLSv1.2', 'TLSv1.3'] as const);
  describe(`crlfile and refusal alerts [${target.name}]`, () => {
    for (const v of versions) {
      test(`${v}: the signing CA's CRL lets a good client in and refuses the revoked and expired ones with their alerts`, { skip, timeout: 30_000 }, async () => {
        const { broker, tlsPort } = await startChainBroker(target.oracle, ['require_certificate true', `crlfile ${chain.crl}`]);
        try {
          assert.equal(await outcome(tlsPort, as('client', v)), 'connack 0');
          assert.equal(await outcome(tlsPort, as('revoked', v)), REVOKED);
          assert.equal(await outcome(tlsPort, as('expired', v)), EXPIRED);
          // The broker logs both refusals as OpenSSL's verify failure, as Mosquitto does (which
          // logs it in one line instead when the failure comes inside its accept call: a race).
          const failed = (): string[] => logLines(broker.stderr())
            .filter((l) => l.includes('certificate verify failed'))
            .map((l) => l.replace(/^Client connection from 127\.0\.0\.1 failed: (.*)\.$/, 'OpenSSL Error[0]: $1'));
          await eventually(() => failed().length >= 2, 5000, 'two refusals logged');
          assert.deepEqual(failed(), [
            'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed',
            'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed',
          ]);
        } finally {
          await broker.stop();
        }
      });

      test(`${v}: without a CRL from the client's own issuer the client is refused as of an unknown CA`, { skip, timeout: 30_000 }, async () => {
        const { broker, tlsPort } = await startChainBroker(target.oracle, ['require_certificate true', `crlfile ${chain.rootCrl}`]);
        try {
          assert.equal(await outcome(tlsPort, as('client', v)), UNKNOWN_CA);
        } finally {
          await broker.stop();
        }
      });

      test(`${v}: no certificate while one is required, and one from an unknown CA, get their alerts`, { skip, timeout: 30_000 }, async () => {
        const { broker, tlsPort } = await startChainBroker(target.oracle, ['require_certificate true']);
        try {
          const none = v === 'TLSv1.3' ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE';
          assert.equal(await outcome(tlsPort, { ca: readFileSync(chain.rootCert), maxVersion: v }), none);
          const rogue = { ca: readFileSync(chain.rootCert), cert: readFileSync(certs.rogueCert), key: readFileSync(certs.rogueKey), maxVersion: v };
          assert.equal(await outcome(tlsPort, rogue), UNKNOWN_CA);
          // Without a crlfile an expired certificate is still refused as expired.
          assert.equal(await outcome(tlsPort, as('expired', v)), EXPIRED);
        } finally {
          await broker.stop();
        }
      });
    }

    test('SIGHUP re-reads the crlfile: a client revoked since is refused', { skip, timeout: 30_000 }, async () => {
      const crl = join(chain.dir, `${target.oracle ? 'o' : 's'}-live-crl.pem`);
      copyFileSync(chain.emptyCrl, crl);
      const { broker, tlsPort } = await startChainBroker(target.oracle, ['require_certificate true', `crlfile ${crl}`]);
      try {
        assert.equal(await outcome(tlsPort, as('revoked', 'TLSv1.2')), 'connack 0');
        copyFileSync(chain.crl, crl);
        await sighup(broker);
        let seen = '';
        for (let i = 0; i < 20 && seen !== REVOKED; i++) {
          seen = await outcome(tlsPort, as('revoked', 'TLSv1.2'));
          if (seen !== REVOKED) await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(seen, REVOKED);
        assert.equal(await outcome(tlsPort, as('client', 'TLSv1.2')), 'connack 0');
      } finally {
        await broker.stop();
      }
    });
  });
}

test('a websockets listener over TLS refuses a revoked client with the same alert', { skip, timeout: 30_000 }, async () => {
  const { broker, tlsPort } = await startChainBroker(false, ['protocol websockets', 'require_certificate true', `crlfile ${chain.crl}`]);
  try {
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      assert.equal(await outcome(tlsPort, as('revoked', v)), REVOKED);
      assert.equal(await outcome(tlsPort, { ca: readFileSync(chain.rootCert), maxVersion: v }), v === 'TLSv1.3' ? 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' : 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
    }
  } finally {
    await broker.stop();
  }
});

test('a crlfile that holds no CRL stops the broker with OpenSSL\'s lines', { skip }, async () => {
  const r = await runBrokerToExit(false, [
    `listener ${await freePort()} 127.0.0.1`, `cafile ${chain.clientCa}`, `certfile ${chain.serverCert}`,
    `keyfile ${chain.serverKey}`, 'require_certificate true', `crlfile ${chain.rootCert}`,
  ]);
  assert.equal(r.code, 1);
  const lines = logLines(r.stderr);
  const at = lines.indexOf(`Error: Unable to load certificate revocation file "${chain.rootCert}". Check crlfile.`);
  assert.ok(at >= 0, r.stderr);
  assert.deepEqual(lines.slice(at + 1), [
    'OpenSSL Error[0]: error:0480006C:PEM routines::no start line',
    'OpenSSL Error[1]: error:05880009:x509 certificate routines::PEM lib',
  ]);
});
