/**
 * TLS and TLS-PSK bridges: certificates made with openssl in a temp dir for each run, a TLS
 * listener on the remote (ours or Debian mosquitto's), and the bridging side ours and then
 * Debian's with the same config, which must agree on what connects and what does not.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, test } from 'node:test';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import * as m from '../helpers/mqtt-bytes.js';
import { oracle, sides, sideName, sleep, client } from './sides.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = !hasOpenssl ? 'openssl not installed' : undefined;

const dir = mkdtempSync(join(tmpdir(), 'skeeter-bridge-tls-'));
const f = (name: string): string => join(dir, name);
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A key and a certificate signed by the test CA, with the given subject alternative names. */
function issue(name: string, cn: string, san: string | undefined): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const ext = `${name}.ext`;
  writeFileSync(f(ext), san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext);
}

before(() => {
  if (skip) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=skeeter test CA', '-days', '2');
  issue('server', 'localhost', 'DNS:localhost,IP:127.0.0.1');
  issue('elsewhere', 'elsewhere.example', 'DNS:elsewhere.example');
  issue('client', 'bridge-client', undefined);
  // bridge_capath: OpenSSL finds CA certificates by subject hash name.
  mkdirSync(f('capath'));
  const hash = openssl('x509', '-hash', '-noout', '-in', 'ca.crt').trim();
  copyFileSync(f('ca.crt'), join(f('capath'), `${hash}.0`));
  writeFileSync(f('psk'), 'bridge-id:0123456789abcdef0123456789abcdef\n');
});

async function logHas(b: RunningBroker, text: string): Promise<boolean> {
  for (let i = 0; i < 160 && !b.stderr().includes(text); i++) await sleep(50);
  return b.stderr().includes(text);
}

const serverTls = (cert = 'server'): string[] => [`cafile ${f('ca.crt')}`, `certfile ${f(`${cert}.crt`)}`, `keyfile ${f(`${cert}.key`)}`];

/**
 * Starts a remote with a TLS listener (plus a plain one for the test's subscriber) and a bridge
 * to it; checks that a message crosses, or that no connection comes up.
 */
async function tlsBridge(o: { localDebian: boolean; remoteDebian: boolean; remote: string[]; bridge: string[]; expectUp: boolean; logLines?: string[] }): Promise<void> {
  const remote = await startBroker({ oracle: o.remoteDebian, verbose: true, config: o.remote });
  const local = await startBroker({
    oracle: o.localDebian,
    verbose: true,
    config: ['connection b1', `address 127.0.0.1:${remote.port}`, 'remote_clientid brx', 'restart_timeout 1', ...o.bridge, 'topic in/# in 1'],
  });
  try {
    if (!o.expectUp) {
      // Two restart periods without a connection.
      await sleep(2500);
      assert.ok(!remote.stderr().includes('as brx (p'), `the bridge connected:\n${remote.stderr()}`);
      assert.ok(!local.stderr().includes('Received CONNACK'), local.stderr());
      for (const line of o.logLines ?? []) assert.ok(local.stderr().includes(line), `log lacks "${line}":\n${local.stderr()}`);
      return;
    }
    assert.ok(await logHas(remote, 'as brx (p'), `no bridge on the remote:\n${remote.stderr()}\n--- local:\n${local.stderr()}`);
    assert.ok(await logHas(local, 'Received CONNACK on connection local.brx.'), local.stderr());
    // The local state topic turns to "1" only once the remote accepted the bridge.
    const s = await client(local.port, 's');
    s.send(m.subscribe(4, 1, [['$SYS/broker/connection/brx/state', 0]]));
    await s.next();
    const state = (await s.next(5000))!;
    assert.match(state.toString('latin1'), /state1$/);
    s.close();
  } finally {
    await local.stop();
    await remote.stop();
  }
}

for (const localDebian of sides) {
  const who = sideName(localDebian);
  for (const remoteDebian of sides) {
    test(`${who} bridge to ${sideName(remoteDebian)}: bridge_cafile + bridge_certfile/bridge_keyfile, require_certificate`, { skip, timeout: 40_000 }, async () => {
      await tlsBridge({
        localDebian,
        remoteDebian,
        remote: [...serverTls(), 'require_certificate true'],
        bridge: [`bridge_cafile ${f('ca.crt')}`, `bridge_certfile ${f('client.crt')}`, `bridge_keyfile ${f('client.key')}`],
        expectUp: true,
      });
    });
  }
  const remoteDebian = oracle;
  test(`${who} bridge: bridge_capath`, { skip, timeout: 40_000 }, async () => {
    await tlsBridge({ localDebian, remoteDebian, remote: serverTls(), bridge: [`bridge_capath ${f('capath')}`], expectUp: true });
  });
  test(`${who} bridge: a certificate for another host name is refused`, { skip, timeout: 40_000 }, async () => {
    await tlsBridge({ localDebian, remoteDebian, remote: serverTls('elsewhere'),
      bridge: [`bridge_cafile ${f('ca.crt')}`],
      expectUp: false,
      logLines: ['Error: host name verification failed.', 'OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed'],
    });
  });
  test(`${who} bridge: bridge_insecure accepts a certificate for another host name`, { skip, timeout: 40_000 }, async () => {
    await tlsBridge({ localDebian, remoteDebian, remote: serverTls('elsewhere'), bridge: [`bridge_cafile ${f('ca.crt')}`, 'bridge_insecure true'], expectUp: true });
  });
  test(`${who} bridge: bridge_insecure still refuses a certificate from an unknown CA`, { skip, timeout: 40_000 }, async () => {
    // The client certificate's issuer is the only CA the bridge trusts... a self-signed one.
    await tlsBridge({ localDebian, remoteDebian, remote: serverTls(),
      bridge: [`bridge_cafile ${f('client.crt')}`, 'bridge_insecure true'],
      expectUp: false,
      logLines: ['OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed'],
    });
  });
  for (const [version, expectUp] of [['tlsv1.3', false], ['tlsv1.2', true]] as const) {
    test(`${who} bridge: bridge_tls_version ${version} against a server that stops at TLS 1.2`, { skip, timeout: 40_000 }, async () => {
      // Mosquitto's listeners cannot be capped at 1.2, so the remote is a Node TLS server.
      const got = await fakeTlsRemote({ maxVersion: 'TLSv1.2' }, [`bridge_cafile ${f('ca.crt')}`, `bridge_tls_version ${version}`], localDebian, expectUp);
      assert.equal(got.connect, expectUp);
    });
  }
  for (const pskRemoteDebian of sides) {
    test(`${who} bridge to ${sideName(pskRemoteDebian)}: bridge_identity/bridge_psk (TLS-PSK)`, { skip, timeout: 40_000 }, async () => {
      await tlsBridge({
        localDebian,
        remoteDebian: pskRemoteDebian,
        remote: ['psk_hint skeeter-hint', `psk_file ${f('psk')}`, 'tls_version tlsv1.2'],
        bridge: ['bridge_identity bridge-id', 'bridge_psk 0123456789abcdef0123456789abcdef'],
        expectUp: true,
      });
    });
    test(`${who} bridge to ${sideName(pskRemoteDebian)}: a wrong bridge_psk does not connect`, { skip, timeout: 40_000 }, async () => {
      await tlsBridge({
        localDebian,
        remoteDebian: pskRemoteDebian,
        remote: ['psk_hint skeeter-hint', `psk_file ${f('psk')}`, 'tls_version tlsv1.2'],
        bridge: ['bridge_identity bridge-id', 'bridge_psk 00000000000000000000000000000000'],
        expectUp: false,
      });
    });
  }

  test(`${who} bridge: bridge_alpn is offered in the TLS handshake`, { skip, timeout: 40_000 }, async () => {
    const got = await fakeTlsRemote({ ALPNProtocols: ['mqtt'] }, [`bridge_cafile ${f('ca.crt')}`, 'bridge_alpn mqtt'], localDebian, true);
    assert.equal(got.alpn, 'mqtt');
  });
}

/**
 * A Node TLS server as the remote: reports whether a CONNECT arrived over TLS and which ALPN
 * protocol was agreed. Waits for the CONNECT when one is expected, else two restart periods.
 */
async function fakeTlsRemote(
  options: { maxVersion?: 'TLSv1.2'; ALPNProtocols?: string[] },
  bridgeLines: string[],
  localDebian: boolean,
  expectConnect: boolean,
): Promise<{ connect: boolean; alpn: string | false | null | undefined }> {
  const got: { connect: boolean; alpn: string | false | null | undefined } = { connect: false, alpn: undefined };
  const server = createTlsServer({ key: readFileSync(f('server.key')), cert: readFileSync(f('server.crt')), ...options }, (s) => {
    got.alpn = s.alpnProtocol;
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      if (d[0] === 0x10) got.connect = true;
      s.write(Buffer.from('20020000', 'hex'));
    });
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const local = await startBroker({
    oracle: localDebian,
    config: ['connection b1', `address 127.0.0.1:${port}`, 'remote_clientid brx', 'restart_timeout 1', ...bridgeLines, 'topic in/# in 1'],
  });
  try {
    if (expectConnect) for (let i = 0; i < 100 && !got.connect; i++) await sleep(50);
    else await sleep(2500);
    return got;
  } finally {
    await local.stop();
    server.close();
  }
}
