/**
 * bridge_require_ocsp: the bridge asks its TLS remote to staple an OCSP response and connects
 * only when that response is successful, signed by the certificate's issuer (or a responder it
 * delegated OCSP signing to) and says "good". The certificates, the index and the responses are
 * made with openssl (`openssl ocsp` as the responder) in a temp dir for each run; the remote is a
 * node:tls server that staples the chosen response and relays to a plain broker. Ours and
 * Debian mosquitto 2.0.11 are run with the same config and must agree.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type Server } from 'node:tls';
import { after, before, test } from 'node:test';
import { startBroker, type RunningBroker } from '../helpers/broker-process.js';
import { sides, sideName, sleep } from './sides.js';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const skip = !hasOpenssl ? 'openssl not installed' : undefined;

const dir = mkdtempSync(join(tmpdir(), 'skeeter-bridge-ocsp-'));
const f = (name: string): string => join(dir, name);
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(...args: string[]): string {
  return execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A key and a certificate signed by `ca` with the given extensions. */
function issue(name: string, cn: string, ca: string, ext: string): void {
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(f(`${name}.ext`), ext);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

/** `openssl ocsp` answering for `cert` from the index, signed by `signer`. */
function ocspResponse(out: string, cert: string, signer: string): void {
  openssl('ocsp', '-issuer', 'ca.crt', '-cert', `${cert}.crt`, '-no_nonce', '-reqout', `${out}.req`);
  openssl('ocsp', '-index', 'index.txt', '-CA', 'ca.crt', '-rsigner', `${signer}.crt`, '-rkey', `${signer}.key`, '-reqin', `${out}.req`, '-respout', `${out}.der`, '-ndays', '1');
}

/** An index.txt line (OpenSSL's CA database) for a certificate. */
function indexLine(cert: string, state: 'V' | 'R'): string {
  const serial = openssl('x509', '-serial', '-noout', '-in', f(`${cert}.crt`)).trim().replace('serial=', '');
  const subject = openssl('x509', '-subject', '-noout', '-nameopt', 'compat', '-in', f(`${cert}.crt`)).trim().replace(/^subject=\s*/, '');
  return [state, '301231000000Z', state === 'R' ? '240101000000Z' : '', serial, 'unknown', subject].join('\t');
}

before(() => {
  if (skip) return;
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=skeeter OCSP test CA', '-days', '2');
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-subj', '/CN=another CA', '-days', '2');
  const server = 'subjectAltName=DNS:localhost,IP:127.0.0.1\n';
  issue('server', 'localhost', 'ca', server);
  issue('revoked', 'localhost', 'ca', server);
  issue('sibling', 'sibling', 'ca', 'basicConstraints=CA:FALSE\n');
  issue('responder', 'OCSP responder', 'ca', 'extendedKeyUsage=OCSPSigning\n');
  issue('stranger', 'stranger responder', 'other-ca', 'extendedKeyUsage=OCSPSigning\n');
  writeFileSync(f('index.txt'), [indexLine('server', 'V'), indexLine('revoked', 'R'), indexLine('sibling', 'V')].join('\n') + '\n');
  ocspResponse('good', 'server', 'ca');
  ocspResponse('delegated', 'server', 'responder');
  ocspResponse('revoked', 'revoked', 'ca');
  ocspResponse('stranger', 'server', 'stranger');
  ocspResponse('sibling', 'sibling', 'ca');
  // OCSPResponse { responseStatus unauthorized(6) } without responseBytes.
  writeFileSync(f('unauthorized.der'), Buffer.from('30030a0106', 'hex'));
  writeFileSync(f('garbage.der'), Buffer.from('not an OCSP response'));
  // A good response without certificates (the signer is the issuer the bridge knows).
  openssl('ocsp', '-index', 'index.txt', '-CA', 'ca.crt', '-rsigner', 'ca.crt', '-rkey', 'ca.key', '-reqin', 'good.req', '-respout', 'nocerts.der', '-ndays', '1', '-resp_no_certs');
  // The good response with the last byte of its signature changed (the signer certificate after it intact).
  const tampered = readFileSync(f('good.der'));
  const signature = signatureOf(tampered);
  tampered[signature.end - 1] = tampered[signature.end - 1]! ^ 0xff;
  writeFileSync(f('tampered.der'), tampered);
});

/** The DER elements inside [start, end) of `der`: tag and content bounds. */
function elements(der: Buffer, start: number, end: number): Array<{ tag: number; start: number; end: number }> {
  const out: Array<{ tag: number; start: number; end: number }> = [];
  for (let pos = start; pos < end && out.length < 100; ) {
    let len = der[pos + 1]!;
    let head = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + der[pos + 2 + i]!;
      head += n;
    }
    out.push({ tag: der[pos]!, start: pos + head, end: pos + head + len });
    pos += head + len;
  }
  return out;
}

/** Where the signature BIT STRING of an OCSPResponse's BasicOCSPResponse is. */
function signatureOf(der: Buffer): { start: number; end: number } {
  const [top] = elements(der, 0, der.length);
  const [, bytes] = elements(der, top!.start, top!.end);
  const [seq] = elements(der, bytes!.start, bytes!.end);
  const [, octets] = elements(der, seq!.start, seq!.end);
  const [basic] = elements(der, octets!.start, octets!.end);
  const [, , sig] = elements(der, basic!.start, basic!.end);
  assert.equal(sig!.tag, 0x03);
  return sig!;
}

/** A TLS front for a plain broker that staples `staple` (or nothing) when asked. */
function stapler(cert: string, staple: Buffer | undefined, brokerPort: number): Promise<{ server: Server; port: number }> {
  const server = createTlsServer({ key: readFileSync(f(`${cert}.key`)), cert: readFileSync(f(`${cert}.crt`)) }, (tls) => {
    const plain = netConnect({ host: '127.0.0.1', port: brokerPort });
    tls.pipe(plain).pipe(tls);
    const end = (): void => {
      tls.destroy();
      plain.destroy();
    };
    tls.on('error', end);
    plain.on('error', end);
    tls.on('close', end);
    plain.on('close', end);
  });
  server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, done: (err: Error | null, response?: Buffer) => void) => {
    if (staple) done(null, staple);
    else done(null);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

async function logHas(b: RunningBroker, text: string, tries = 160): Promise<boolean> {
  for (let i = 0; i < tries && !b.stderr().includes(text); i++) await sleep(50);
  return b.stderr().includes(text);
}

async function ocspBridge(debian: boolean, cert: string, response: string | undefined, expectUp: boolean, requireOcsp = true): Promise<string> {
  const remote = await startBroker({ verbose: true });
  const front = await stapler(cert, response === undefined ? undefined : readFileSync(f(`${response}.der`)), remote.port);
  const local = await startBroker({
    oracle: debian,
    verbose: true,
    config: [
      'connection b1',
      `address 127.0.0.1:${front.port}`,
      'remote_clientid brx',
      'restart_timeout 1',
      `bridge_cafile ${f('ca.crt')}`,
      ...(requireOcsp ? ['bridge_require_ocsp true'] : []),
      'topic in/# in 1',
    ],
  });
  try {
    if (expectUp) {
      assert.ok(await logHas(remote, 'as brx (p'), `no bridge on the remote:\n${remote.stderr()}\n--- local:\n${local.stderr()}`);
      assert.ok(await logHas(local, 'Received CONNACK on connection local.brx.'), local.stderr());
    } else {
      // Two attempts, neither reaching the broker behind the TLS front.
      assert.ok(await logHas(local, 'Connecting bridge (step 2) b1', 200), local.stderr());
      await sleep(2500);
      assert.ok(!remote.stderr().includes('as brx (p'), `the bridge connected:\n${remote.stderr()}\n--- local:\n${local.stderr()}`);
      assert.ok(!local.stderr().includes('Received CONNACK'), local.stderr());
    }
    return local.stderr();
  } finally {
    await local.stop();
    front.server.close();
    await remote.stop();
  }
}

const CASES: Array<[string, string, string | undefined, boolean]> = [
  ['a good response signed by the issuer connects', 'server', 'good', true],
  ['a good response from a delegated OCSP responder connects', 'server', 'delegated', true],
  // OpenSSL looks for the signer among the response's certificates and those the remote sent,
  // not in the trust store: the issuer (a root the remote does not send) is not found.
  ['a response without certificates, signed by the issuer, does not connect', 'server', 'nocerts', false],
  ['a revoked certificate does not connect', 'revoked', 'revoked', false],
  ['no stapled response does not connect', 'server', undefined, false],
  ['a response signed by a responder of another CA does not connect', 'server', 'stranger', false],
  ['a response with a broken signature does not connect', 'server', 'tampered', false],
  ['a response with status unauthorized does not connect', 'server', 'unauthorized', false],
  ['a stapled response that is not DER does not connect', 'server', 'garbage', false],
];

for (const debian of sides) {
  for (const [name, cert, response, up] of CASES) {
    test(`bridge_require_ocsp: ${name} (${sideName(debian)})`, { skip, timeout: 60_000 }, async () => {
      const log = await ocspBridge(debian, cert, response, up);
      if (!debian && response === 'revoked') assert.ok(log.includes('OCSP: SSL certificate status: revoked (1)'), log);
      if (!debian && response === undefined) assert.ok(log.includes('OCSP: no response'), log);
      if (!debian && response === 'unauthorized') assert.ok(log.includes('OCSP: invalid status: unauthorized (6)'), log);
      // OpenSSL's error lines, the same from both.
      const lines: Record<string, string> = {
        nocerts: 'OpenSSL Error[0]: error:13800076:OCSP routines::signer certificate not found\n',
        tampered: 'OpenSSL Error[4]: error:13800075:OCSP routines::signature failure\n',
        stranger: 'OpenSSL Error[0]: error:13800065:OCSP routines::certificate verify error\n',
        revoked: 'OpenSSL Error[0]: error:0A000148:SSL routines::invalid status response\n',
      };
      const line = response === undefined ? undefined : lines[response];
      if (line !== undefined) assert.ok(log.includes(line), log);
    });
  }
  test(`without bridge_require_ocsp nothing is asked for (${sideName(debian)})`, { skip, timeout: 60_000 }, async () => {
    await ocspBridge(debian, 'revoked', 'revoked', true, false);
  });
}

test('bridge_require_ocsp: a good response about another certificate does not connect (skeeter; Mosquitto checks only the statuses)', { skip, timeout: 60_000 }, async () => {
  const log = await ocspBridge(false, 'server', 'sibling', false);
  assert.ok(log.includes('OCSP: no status for the remote certificate'), log);
});
