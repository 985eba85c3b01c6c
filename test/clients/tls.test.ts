/**
 * TLS options of the client tools against a Debian broker with a TLS listener: the same
 * invocations run with Debian's tools and ours must print the same and exit the same on the
 * success paths (--cafile, --capath, client certificates, --tls-version, --insecure), and both
 * must fail (non-zero) when the server cannot be verified.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasOpenssl, makeTestCertificates, type TestCertificates } from '../transports/certs.js';
import { debian, debianToolsMissing, freePort, mask, ours, runTool, startDebianBroker, type Broker } from './harness.js';

const missing = debianToolsMissing() ?? (hasOpenssl() ? undefined : 'openssl not installed');

describe('client tools: TLS, ours and Debian 2.0.11 side by side', { concurrency: 1, timeout: 180_000 }, () => {
  if (missing) {
    it('skipped', { skip: missing }, () => {});
    return;
  }
  let certs: TestCertificates;
  let broker: Broker;
  let tlsPort: number;
  let mtlsPort: number;
  let pskPort: number;
  let dir: string;
  before(async () => {
    certs = makeTestCertificates();
    dir = mkdtempSync(join(tmpdir(), 'skeeter-client-tls-'));
    mkdirSync(join(dir, 'capath'));
    // OpenSSL finds CA files in a directory by subject hash.
    const hash = spawnSync('openssl', ['x509', '-hash', '-noout', '-in', certs.caCert], { encoding: 'utf8' }).stdout.trim();
    copyFileSync(certs.caCert, join(dir, 'capath', `${hash}.0`));
    mkdirSync(join(dir, 'unhashed'));
    copyFileSync(certs.caCert, join(dir, 'unhashed', 'ca.pem'));
    tlsPort = await freePort();
    mtlsPort = await freePort();
    pskPort = await freePort();
    writeFileSync(join(dir, 'psk'), 'skeeter-id:deadbeef01\n');
    broker = await startDebianBroker([
      'allow_anonymous true',
      `listener ${tlsPort} 127.0.0.1`,
      `cafile ${certs.caCert}`,
      `certfile ${certs.serverCert}`,
      `keyfile ${certs.serverKey}`,
      `listener ${mtlsPort} 127.0.0.1`,
      `cafile ${certs.caCert}`,
      `certfile ${certs.serverCert}`,
      `keyfile ${certs.serverKey}`,
      'require_certificate true',
      `listener ${pskPort} 127.0.0.1`,
      'psk_hint skeeter',
      `psk_file ${join(dir, 'psk')}`,
    ]);
  });
  after(async () => {
    await broker?.stop();
    certs?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const same = (name: string, args: () => string[]): void => {
    it(name, async () => {
      const a = args();
      const theirs = await runTool(debian('mosquitto_pub'), a, { cwd: dir, timeoutMs: 20_000 });
      const mine = await runTool(ours('mosquitto_pub'), a, { cwd: dir, timeoutMs: 20_000 });
      assert.deepEqual(
        { stdout: mask(mine.stdout), stderr: mask(mine.stderr), status: mine.status },
        { stdout: mask(theirs.stdout), stderr: mask(theirs.stderr), status: theirs.status },
      );
      assert.equal(mine.status, 0);
    });
  };
  const P = (port: () => number) => ['-h', 'localhost', '-p', String(port()), '-t', 'tls/t', '-m', 'x', '-d'];

  same('--cafile', () => [...P(() => tlsPort), '--cafile', certs.caCert]);
  same('--capath', () => [...P(() => tlsPort), '--capath', join(dir, 'capath')]);
  same('--cafile with an IP address in the certificate', () => ['-h', '127.0.0.1', '-p', String(tlsPort), '-t', 'tls/t', '-m', 'x', '--cafile', certs.caCert, '-q', '1', '-d']);
  same('--tls-version tlsv1.2', () => [...P(() => tlsPort), '--cafile', certs.caCert, '--tls-version', 'tlsv1.2']);
  same('--psk / --psk-identity', () => [...P(() => pskPort), '--psk', 'deadbeef01', '--psk-identity', 'skeeter-id']);
  same('client certificate with require_certificate', () => [...P(() => mtlsPort), '--cafile', certs.caCert, '--cert', certs.clientCert, '--key', certs.clientKey]);

  for (const [name, args] of [
    ['an untrusted server CA', () => [...P(() => tlsPort), '--cafile', certs.rogueCaCert]],
    ['a --capath without hash names', () => [...P(() => tlsPort), '--capath', join(dir, 'unhashed')]],
  ] as const) {
    // libmosquitto's non-blocking connect makes Debian's result vary between runs: the
    // handshake fails either inside connect ("Unable to connect (A TLS error occurred.).",
    // exit 1) or in the loop after "sending CONNECT" (exit 8). Ours always takes the first
    // path; both print OpenSSL's line.
    it(`${name} fails in both, with OpenSSL's verify error`, async () => {
      const a = args();
      const theirs = await runTool(debian('mosquitto_pub'), a, { cwd: dir, timeoutMs: 20_000 });
      const mine = await runTool(ours('mosquitto_pub'), a, { cwd: dir, timeoutMs: 20_000 });
      const line = 'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed\n';
      assert.ok(theirs.status === 1 || theirs.status === 8, String(theirs.status));
      assert.ok(theirs.stdout.endsWith(line), theirs.stdout);
      assert.deepEqual({ stdout: mine.stdout, stderr: mine.stderr, status: mine.status }, { stdout: line, stderr: 'Unable to connect (A TLS error occurred.).\n', status: 1 });
    });
  }
});
