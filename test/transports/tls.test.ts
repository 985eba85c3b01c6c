/**
 * TLS listeners: Debian's mosquitto_pub/sub with --cafile/--cert/--key against our broker, the
 * refusals (no client certificate, unknown CA, revoked by the CRL, TLS version and cipher), the
 * startup errors for bad files and options, and the certificate reload on SIGHUP. Log lines of
 * every refusal are compared with the Debian broker's for the same clients.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { freePort, hasDebianMosquitto, startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { DEBIAN_TOOLS, hasDebianTools, runTool, ToolProcess } from '../interop/tools.js';
import { hasOpenssl, makeTestCertificates, type TestCertificates } from './certs.js';
import { eventually, logLines, runBrokerToExit } from './helpers.js';

const skip = !hasDebianTools() ? 'Debian mosquitto clients not installed' : !hasOpenssl() ? 'openssl not installed' : false;
const oracleSkip = skip || (!hasDebianMosquitto() ? 'Debian mosquitto not installed' : false);
let certs: TestCertificates;

before(() => {
  if (!skip) certs = makeTestCertificates();
});
after(() => certs?.remove());

interface TlsBroker {
  broker: RunningBroker;
  tlsPort: number;
}

async function startTlsBroker(lines: string[], oracle = false): Promise<TlsBroker> {
  const tlsPort = await freePort();
  const broker = await startBroker({
    oracle,
    verbose: true,
    config: [`listener ${tlsPort} 127.0.0.1`, `certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, ...lines],
  });
  // The "running" line comes once every listener is open (a probe connection would be logged).
  await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
  return { broker, tlsPort };
}

const tlsArgs = (port: number, extra: string[]): string[] => ['-h', 'localhost', '-p', String(port), ...extra];
const clientCert = (): string[] => ['--cafile', certs.caCert, '--cert', certs.clientCert, '--key', certs.clientKey];

test('Debian pub/sub over TLS with a client certificate, and a plain TCP client on the same broker', { skip }, async () => {
  const { broker, tlsPort } = await startTlsBroker([`cafile ${certs.caCert}`, 'require_certificate true']);
  try {
    const sub = new ToolProcess(DEBIAN_TOOLS.sub, tlsArgs(tlsPort, [...clientCert(), '-t', 's/#', '-v', '-C', '2']));
    try {
      await eventually(() => broker.stderr().includes('Sending SUBACK'), 5000, 'SUBACK');
      const p1 = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, [...clientCert(), '-t', 's/tls', '-m', 'over-tls', '-q', '1']));
      assert.equal(p1.code, 0, p1.stderr);
      const p2 = await runTool(DEBIAN_TOOLS.pub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 's/tcp', '-m', 'over-tcp']);
      assert.equal(p2.code, 0, p2.stderr);
      const r = await sub.done(5000);
      assert.equal(r.stdout, 's/tls over-tls\ns/tcp over-tcp\n');
    } finally {
      sub.kill();
    }
  } finally {
    await broker.stop();
  }
});

/** The lines a refused client leaves in the log, ports replaced so two brokers compare. */
const refusalLines = (text: string, tlsPort: number): string[] =>
  logLines(text)
    .filter((l) => (l.startsWith('New connection') && l.endsWith(` on port ${tlsPort}.`)) || /^(OpenSSL Error|Client <unknown> disconnected:|Client connection from)/.test(l))
    .map((l) => l.replace(/127\.0\.0\.1:\d+ on port \d+/, '127.0.0.1:P on port L'));

interface Refusal {
  name: string;
  config: () => string[];
  /** mosquitto_pub's TLS options, or a Node client's (Debian's client cannot cap its TLS version). */
  args?: () => string[];
  node?: () => ConnectionOptions;
  /** The log lines, as Debian's 2.0.11 writes them. */
  lines: string[];
}

/**
 * Mosquitto logs a failed handshake in one line when the failure happens in the accept call
 * itself (the client's bytes were already there), else in three; which one is a race in
 * Mosquitto, so the Debian broker may write either for the same client.
 */
function oneLineForm(lines: string[]): string[] {
  if (lines.length === 1) {
    const m = /^Client connection from 127\.0\.0\.1 failed: (.*)\.$/.exec(lines[0]!);
    return ['New connection from 127.0.0.1:P on port L.', `OpenSSL Error[0]: ${m?.[1]}`, 'Client <unknown> disconnected: Protocol error.'];
  }
  return [`Client connection from 127.0.0.1 failed: ${lines[1]!.replace('OpenSSL Error[0]: ', '')}.`];
}

/** A Node TLS client that expects to be refused: resolves with how it ended. */
function nodeTlsAttempt(port: number, options: ConnectionOptions): Promise<'refused' | 'connected'> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...options }, () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', () => resolve('refused'));
    s.once('close', () => resolve('refused'));
    s.setTimeout(5000, () => s.destroy());
  });
}

const REFUSALS: Refusal[] = [
  {
    name: 'no client certificate while require_certificate is true',
    config: () => [`cafile ${certs.caCert}`, 'require_certificate true'],
    args: () => ['--cafile', certs.caCert],
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not return a certificate',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
  {
    name: 'a client certificate revoked in the crlfile',
    config: () => [`cafile ${certs.caCert}`, 'require_certificate true', `crlfile ${certs.crl}`],
    args: () => ['--cafile', certs.caCert, '--cert', certs.revokedCert, '--key', certs.revokedKey],
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
  {
    name: 'a client certificate from another CA',
    config: () => [`cafile ${certs.caCert}`, 'require_certificate true'],
    args: () => ['--cafile', certs.caCert, '--cert', certs.rogueCert, '--key', certs.rogueKey],
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
  {
    name: 'a client that does not trust our CA',
    config: () => [],
    args: () => ['--cafile', certs.rogueCaCert],
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
  {
    name: 'plain MQTT on the TLS port',
    config: () => [],
    args: () => [],
    lines: ['Client connection from 127.0.0.1 failed: error:0A00010B:SSL routines::wrong version number.'],
  },
  {
    name: 'a TLS 1.2 client when tls_version is tlsv1.3',
    config: () => ['tls_version tlsv1.3'],
    node: () => ({ ca: readFileSync(certs.caCert), maxVersion: 'TLSv1.2' }),
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A000102:SSL routines::unsupported protocol',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
  {
    name: 'no cipher in common',
    config: () => ['ciphers ECDHE-RSA-AES256-GCM-SHA384', 'tls_version tlsv1.2'],
    node: () => ({ ca: readFileSync(certs.caCert), maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }),
    lines: [
      'New connection from 127.0.0.1:P on port L.',
      'OpenSSL Error[0]: error:0A0000C1:SSL routines::no shared cipher',
      'Client <unknown> disconnected: Protocol error.',
    ],
  },
];

for (const r of REFUSALS) {
  for (const oracle of [false, true]) {
    test(`${oracle ? 'Debian mosquitto' : 'skeeter'}: refuses ${r.name}`, { skip: oracle ? oracleSkip : skip }, async () => {
      const { broker, tlsPort } = await startTlsBroker(r.config(), oracle);
      const sub = new ToolProcess(DEBIAN_TOOLS.sub, ['-h', '127.0.0.1', '-p', String(broker.port), '-t', 'r/#', '-C', '1', '-W', '3']);
      try {
        await eventually(() => broker.stderr().includes('Sending SUBACK'), 5000, 'SUBACK');
        if (r.node) {
          assert.equal(await nodeTlsAttempt(tlsPort, r.node()), 'refused');
        } else {
          const p = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, [...r.args!(), '-t', 'r/x', '-m', 'must-not-arrive']));
          assert.notEqual(p.code, 0, 'the refused client fails');
        }
        await eventually(() => {
          const l = refusalLines(broker.stderr(), tlsPort);
          return l.length >= r.lines.length || (oracle && l.some((x) => x.startsWith('Client connection from')));
        }, 5000, 'the refusal lines');
        // Lines that follow the first (e.g. the disconnect after the OpenSSL error) come at once.
        await new Promise((res) => setTimeout(res, 200));
        const s = await sub.done(6000);
        assert.equal(s.stdout, '', 'nothing was delivered');
      } finally {
        sub.kill();
        await broker.stop();
      }
      const lines = refusalLines(broker.stderr(), tlsPort);
      if (oracle && lines.length !== r.lines.length) assert.deepEqual(lines, oneLineForm(r.lines));
      else assert.deepEqual(lines, r.lines);
    });
  }
}

interface StartupError {
  name: string;
  lines: () => string[];
  expected: () => string[];
  /** Debian's line differs (only for options skeeter refuses on purpose). */
  skeeterOnly?: boolean;
}

const STARTUP_ERRORS: StartupError[] = [
  {
    name: 'missing certfile',
    lines: () => [`certfile ${certs.dir}/nope.crt`, `keyfile ${certs.serverKey}`],
    expected: () => [
      `Error: Unable to load server certificate "${certs.dir}/nope.crt". Check certfile.`,
      'OpenSSL Error[0]: error:80000002:system library::No such file or directory',
      'OpenSSL Error[1]: error:10080002:BIO routines::system lib',
      'OpenSSL Error[2]: error:0A080002:SSL routines::system lib',
    ],
  },
  {
    name: 'a key that does not match the certificate',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.clientKey}`],
    expected: () => [
      `Error: Unable to load server key file "${certs.clientKey}". Check keyfile.`,
      'OpenSSL Error[0]: error:05800074:x509 certificate routines::key values mismatch',
    ],
  },
  {
    name: 'missing cafile',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, `cafile ${certs.dir}/nope.crt`],
    expected: () => [
      `Error: Unable to load CA certificates. Check cafile "${certs.dir}/nope.crt".`,
      'OpenSSL Error[0]: error:80000002:system library::No such file or directory',
      'OpenSSL Error[1]: error:10000080:BIO routines::no such file',
      'OpenSSL Error[2]: error:05880002:x509 certificate routines::system lib',
    ],
  },
  {
    name: 'an unknown tls_version',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, 'tls_version tlsv1.0'],
    expected: () => ['Error: Unsupported tls_version "tlsv1.0".'],
  },
  {
    name: 'a bad cipher list',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, 'ciphers NOPE'],
    expected: () => ['Error: Unable to set TLS ciphers. Check cipher list "NOPE".'],
  },
  {
    name: 'a bad TLS 1.3 cipher list',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, 'ciphers_tls1.3 NOPE'],
    expected: () => ['Error: Unable to set TLS 1.3 ciphersuites. Check cipher_tls13 list "NOPE".'],
  },
  {
    name: 'a missing dhparamfile',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, `dhparamfile ${certs.dir}/nope.pem`],
    expected: () => [`Error loading dhparamfile "${certs.dir}/nope.pem".`],
  },
  {
    // tls_engine itself is refused while reading the config (test/broker/process.test.ts);
    // tls_keyform engine depends on its value, so the listener refuses it when it opens.
    name: 'tls_keyform engine (not supported in skeeter)',
    lines: () => [`certfile ${certs.serverCert}`, `keyfile ${certs.serverKey}`, 'tls_keyform engine'],
    expected: () => ['Error: tls_engine and tls_keyform engine are not supported in skeeter (Node.js has no OpenSSL engine support); use a PEM keyfile.'],
    skeeterOnly: true,
  },
];

for (const e of STARTUP_ERRORS) {
  for (const oracle of e.skeeterOnly ? [false] : [false, true]) {
    test(`${oracle ? 'Debian mosquitto' : 'skeeter'}: exits 1 on ${e.name}`, { skip: oracle ? oracleSkip : skip }, async () => {
      const tlsPort = await freePort();
      const r = await runBrokerToExit(oracle, [`listener ${tlsPort} 127.0.0.1`, ...e.lines()]);
      assert.equal(r.code, 1, r.stderr);
      const lines = logLines(r.stderr);
      const at = lines.lastIndexOf(`Opening ipv4 listen socket on port ${tlsPort}.`);
      assert.ok(at >= 0, r.stderr);
      assert.deepEqual(lines.slice(at + 1), e.expected());
    });
  }
}

/** The serial number of the certificate the broker presents now. */
function serverSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: readFileSync(certs.caCert) }, () => {
      const serial = s.getPeerCertificate().serialNumber;
      s.destroy();
      resolve(serial);
    });
    s.once('error', reject);
    s.setTimeout(5000, () => {
      s.destroy();
      reject(new Error('TLS connect timed out'));
    });
  });
}

test('SIGHUP reloads the certificate for new clients without dropping connected ones', { skip }, async () => {
  const cert = `${certs.dir}/live.crt`;
  const key = `${certs.dir}/live.key`;
  copyFileSync(certs.serverCert, cert);
  copyFileSync(certs.serverKey, key);
  const tlsPort = await freePort();
  const broker = await startBroker({ verbose: true, config: [`listener ${tlsPort} 127.0.0.1`, `certfile ${cert}`, `keyfile ${key}`] });
  try {
    await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
    assert.equal(await serverSerial(tlsPort), '03E9');
    const sub = new ToolProcess(DEBIAN_TOOLS.sub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '-t', 'h/#', '-v', '-C', '1']));
    try {
      await eventually(() => broker.stderr().includes('Sending SUBACK'), 5000, 'SUBACK');
      copyFileSync(certs.serverCert2, cert);
      copyFileSync(certs.serverKey2, key);
      process.kill(broker.pid, 'SIGHUP');
      await eventually(() => broker.stderr().includes('Reloading config.'), 5000, 'the reload');
      // New handshakes get the new certificate (serial 1002).
      let serial = '';
      for (let i = 0; i < 20 && serial !== '03EA'; i++) {
        serial = await serverSerial(tlsPort);
        if (serial !== '03EA') await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(serial, '03EA');
      // The subscriber connected before the reload still gets messages.
      const p = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '-t', 'h/after', '-m', 'still-here']));
      assert.equal(p.code, 0, p.stderr);
      const r = await sub.done(5000);
      assert.equal(r.stdout, 'h/after still-here\n');
    } finally {
      sub.kill();
    }
  } finally {
    await broker.stop();
  }
});

test('a client certificate is optional without require_certificate, but a bad one is refused', { skip }, async () => {
  const { broker, tlsPort } = await startTlsBroker([`cafile ${certs.caCert}`]);
  try {
    const none = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '-t', 'o', '-m', 'x']));
    assert.equal(none.code, 0, none.stderr);
    const good = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, [...clientCert(), '-t', 'o', '-m', 'x']));
    assert.equal(good.code, 0, good.stderr);
    const rogue = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '--cert', certs.rogueCert, '--key', certs.rogueKey, '-t', 'o', '-m', 'x']));
    assert.notEqual(rogue.code, 0);
  } finally {
    await broker.stop();
  }
});

test('capath: the CA is found in a directory of certificates', { skip }, async () => {
  const capath = join(certs.dir, 'capath');
  mkdirSync(capath, { recursive: true });
  copyFileSync(certs.caCert, join(capath, 'ca.pem'));
  const { broker, tlsPort } = await startTlsBroker([`capath ${capath}`, 'require_certificate true']);
  try {
    const good = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, [...clientCert(), '-t', 'c', '-m', 'x']));
    assert.equal(good.code, 0, good.stderr);
    const rogue = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '--cert', certs.rogueCert, '--key', certs.rogueKey, '-t', 'c', '-m', 'x']));
    assert.notEqual(rogue.code, 0);
  } finally {
    await broker.stop();
  }
});

test('a SIGHUP with a broken certificate file keeps the old certificate in use', { skip }, async () => {
  const cert = join(certs.dir, 'broken.crt');
  copyFileSync(certs.serverCert, cert);
  const tlsPort = await freePort();
  const broker = await startBroker({ config: [`listener ${tlsPort} 127.0.0.1`, `certfile ${cert}`, `keyfile ${certs.serverKey}`] });
  try {
    await eventually(() => / running$/m.test(broker.stderr()), 5000, 'the running line');
    writeFileSync(cert, 'not a certificate\n');
    process.kill(broker.pid, 'SIGHUP');
    await eventually(() => broker.stderr().includes('Reloading config.'), 5000, 'the reload');
    await eventually(() => broker.stderr().includes(`Unable to load server`), 5000, 'the reload error');
    assert.equal(await serverSerial(tlsPort), '03E9');
    const p = await runTool(DEBIAN_TOOLS.pub, tlsArgs(tlsPort, ['--cafile', certs.caCert, '-t', 'k', '-m', 'x']));
    assert.equal(p.code, 0, p.stderr);
  } finally {
    await broker.stop();
  }
});
