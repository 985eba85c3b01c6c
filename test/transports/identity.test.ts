/**
 * use_identity_as_username / use_subject_as_username, transport side: the username a TLS
 * listener derives from a real handshake (client certificate CN, RFC 2253 subject checked
 * against openssl's own `-nameopt RFC2253` output, PSK identity). The broker is run as a library
 * and a subclass records what each accepted Peer carries.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Broker, defaultListener, defaultSettings, type ListenerSettings } from '@skeeter/broker';
import { hasOpenssl, makeTestCertificates, type TestCertificates } from './certs.js';
import { eventually } from './helpers.js';

type Peer = Parameters<Broker['accept']>[0];

class RecordingBroker extends Broker {
  readonly peers: Peer[] = [];
  override accept(peer: Peer, listener: ListenerSettings): void {
    this.peers.push(peer);
    super.accept(peer, listener);
  }
}

const skip = !hasOpenssl() ? 'openssl not installed' : false;
let certs: TestCertificates;
before(() => {
  if (!skip) certs = makeTestCertificates();
});
after(() => certs?.remove());

async function withBroker(tls: Partial<NonNullable<ListenerSettings['tls']>>, run: (port: number, b: RecordingBroker) => Promise<void>): Promise<void> {
  const settings = defaultSettings([]);
  settings.log = { ...settings.log, dests: [{ kind: 'none' }] };
  settings.sysInterval = 0;
  settings.listeners = [{
    ...defaultListener(0, '127.0.0.1'),
    allowAnonymous: true,
    tls: { requireCertificate: false, useIdentityAsUsername: false, useSubjectAsUsername: false, ...tls },
  }];
  const broker = new RecordingBroker(settings);
  await broker.start();
  try {
    await run(broker.bound[0]!.port, broker);
  } finally {
    await broker.stop(false);
  }
}

function handshake(port: number, options: ConnectionOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      // Hold the connection until the broker has seen it, then leave.
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 200);
    });
    s.once('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

const serverFiles = (): Partial<NonNullable<ListenerSettings['tls']>> => ({ certfile: certs.serverCert, keyfile: certs.serverKey, cafile: certs.caCert });

test('use_identity_as_username: the certificate CN; no certificate is a refusal', { skip }, async () => {
  await withBroker({ ...serverFiles(), useIdentityAsUsername: true }, async (port, broker) => {
    const ca = readFileSync(certs.caCert);
    await handshake(port, { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
    await handshake(port, { ca });
    await eventually(() => broker.peers.length === 2, 5000, 'two peers');
    assert.deepEqual(broker.peers.map((p) => p.certificateUsername), [{ username: 'client-one' }, { refused: 'no-certificate' }]);
  });
});

test('use_subject_as_username: the RFC 2253 subject, as openssl prints it', { skip }, async () => {
  const r = spawnSync('openssl', ['x509', '-in', certs.clientCert, '-noout', '-subject', '-nameopt', 'RFC2253'], { encoding: 'utf8' });
  const expected = r.stdout.trim().replace(/^subject=/, '');
  assert.equal(expected, certs.clientSubject);
  await withBroker({ ...serverFiles(), useSubjectAsUsername: true }, async (port, broker) => {
    await handshake(port, { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
    await eventually(() => broker.peers.length === 1, 5000, 'the peer');
    assert.deepEqual(broker.peers[0]!.certificateUsername, { username: expected });
  });
});

test('without either option no username comes from the certificate', { skip }, async () => {
  await withBroker(serverFiles(), async (port, broker) => {
    await handshake(port, { ca: readFileSync(certs.caCert), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
    await eventually(() => broker.peers.length === 1, 5000, 'the peer');
    assert.equal(broker.peers[0]!.certificateUsername, undefined);
  });
});

test('PSK with use_identity_as_username: the identity the client used', { skip }, async () => {
  const pskFile = join(certs.dir, 'psk.txt');
  writeFileSync(pskFile, 'sensor-7:00112233445566778899\n');
  await withBroker({ pskHint: 'hint', pskFile, useIdentityAsUsername: true }, async (port, broker) => {
    await handshake(port, {
      ciphers: 'PSK-AES128-GCM-SHA256',
      maxVersion: 'TLSv1.2',
      checkServerIdentity: () => undefined,
      pskCallback: () => ({ identity: 'sensor-7', psk: Buffer.from('00112233445566778899', 'hex') }),
    });
    await eventually(() => broker.peers.length === 1, 5000, 'the peer');
    assert.deepEqual(broker.peers[0]!.certificateUsername, { username: 'sensor-7' });
  });
});

/** Sends a CONNECT over TLS and returns the CONNACK bytes (hex). */
function connectOverTls(port: number, options: ConnectionOptions, connect: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => s.write(connect));
    s.once('data', (d: Buffer) => {
      resolve(d.toString('hex'));
      s.destroy();
    });
    s.once('error', reject);
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

/** CONNECT 3.1.1, client id "id", with user "mallory" / password "x" (both ignored under the option). */
const CONNECT_WITH_USER = Buffer.from('101a00044d51545404c2003c000269640007' + Buffer.from('mallory').toString('hex') + '000178', 'hex');

test('use_identity_as_username at CONNECT: the CN replaces the CONNECT user, no certificate gets CONNACK 4', { skip }, async () => {
  await withBroker({ ...serverFiles(), useIdentityAsUsername: true }, async (port, broker) => {
    const users: Array<string | undefined> = [];
    broker.on('connect', (id) => users.push(broker.sessions.get(id)?.username));
    // The password check would refuse "mallory"/"x"; the certificate identity is trusted instead.
    broker.security = { authenticate: () => false };
    const ca = readFileSync(certs.caCert);
    const ok = await connectOverTls(port, { ca, cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) }, CONNECT_WITH_USER);
    assert.equal(ok, '20020000');
    const refused = await connectOverTls(port, { ca }, CONNECT_WITH_USER);
    assert.equal(refused, '20020004');
    assert.deepEqual(users, ['client-one']);
  });
});
