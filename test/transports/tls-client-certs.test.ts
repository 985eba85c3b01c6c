/**
 * Client certificates on a TLS listener, checked against both our broker and Debian's 2.0.11:
 * a client whose user name comes from its certificate keeps its connection across a SIGHUP
 * (Mosquitto re-reads the name from the certificate and checks no password for it).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { RawClient } from '../helpers/raw-client.js';
import * as m from '../helpers/mqtt-bytes.js';
import { passwordLine } from '../auth/helpers.js';
import { hasOpenssl, makeTestCertificates, type TestCertificates } from './certs.js';
import { eventually } from './helpers.js';

const skip = !hasOpenssl() ? 'openssl not installed' : false;
let certs: TestCertificates;
before(() => {
  if (!skip) certs = makeTestCertificates();
});
after(() => certs?.remove());

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
