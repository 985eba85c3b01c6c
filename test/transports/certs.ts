/**
 * Test certificates made in the test run with Debian's openssl, into a temp dir, so no private
 * key is ever committed and nothing expires in the repository. One CA signs the server and two
 * clients (one later revoked in the CRL); a second, unrelated CA signs a "rogue" client.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  /** A second server certificate (same CA, other serial) to check reloads. */
  serverCert2: string;
  serverKey2: string;
  clientCert: string;
  clientKey: string;
  revokedCert: string;
  revokedKey: string;
  crl: string;
  rogueCaCert: string;
  rogueCert: string;
  rogueKey: string;
  /** The client certificate's subject, as Mosquitto's use_subject_as_username writes it (RFC 2253). */
  clientSubject: string;
  clientCommonName: string;
  remove(): void;
}

export const hasOpenssl = (): boolean => spawnSync('openssl', ['version'], { encoding: 'utf8' }).status === 0;

function openssl(cwd: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2',
    '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
}

function makeLeaf(dir: string, name: string, subj: string, ca: string, serial: number, ext: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', String(serial),
    '-days', '2', '-sha256', '-extfile', `${name}.ext`, '-out', `${name}.crt`]);
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-certs-'));
  makeCa(dir, 'ca', 'Skeeter Test CA');
  makeCa(dir, 'rogue-ca', 'Rogue CA');
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  makeLeaf(dir, 'server', '/CN=localhost', 'ca', 1001, serverExt);
  makeLeaf(dir, 'server2', '/CN=localhost', 'ca', 1002, serverExt);
  makeLeaf(dir, 'client', '/C=GB/O=Skeeter Test/OU=Unit, One/CN=client-one', 'ca', 2001, clientExt);
  makeLeaf(dir, 'revoked', '/CN=revoked-client', 'ca', 2002, clientExt);
  makeLeaf(dir, 'rogue', '/CN=rogue-client', 'rogue-ca', 3001, clientExt);
  // A CRL needs openssl's "ca" database: an index with the revoked certificate in it.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'crlnumber'), '01\n');
  writeFileSync(join(dir, 'ca.cnf'), [
    '[ ca ]', 'default_ca = test_ca', '[ test_ca ]', `database = ${join(dir, 'index.txt')}`,
    `crlnumber = ${join(dir, 'crlnumber')}`, `certificate = ${join(dir, 'ca.crt')}`,
    `private_key = ${join(dir, 'ca.key')}`, 'default_md = sha256', 'default_crl_days = 2', '',
  ].join('\n'));
  openssl(dir, ['ca', '-config', 'ca.cnf', '-revoke', 'revoked.crt']);
  openssl(dir, ['ca', '-config', 'ca.cnf', '-gencrl', '-out', 'crl.pem']);
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    serverCert2: p('server2.crt'),
    serverKey2: p('server2.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    revokedCert: p('revoked.crt'),
    revokedKey: p('revoked.key'),
    crl: p('crl.pem'),
    rogueCaCert: p('rogue-ca.crt'),
    rogueCert: p('rogue.crt'),
    rogueKey: p('rogue.key'),
    clientSubject: 'CN=client-one,OU=Unit\\, One,O=Skeeter Test,C=GB',
    clientCommonName: 'client-one',
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A two-level chain as deployments (and Mosquitto's own test set) have it: a root CA signs a
 * signing CA, which signs the clients; only the signing CA publishes CRLs. EC keys (quick to
 * make), so the CRLs are ECDSA-signed. `clientCa` is the root and the signing CA in one file.
 */
export interface ChainCertificates {
  dir: string;
  rootCert: string;
  clientCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  revokedCert: string;
  revokedKey: string;
  /** Valid from 2012-08-20 to 2012-08-21 only. */
  expiredCert: string;
  expiredKey: string;
  /** From the signing CA, revoking nothing (made before the revocation). */
  emptyCrl: string;
  /** From the signing CA, revoking `revokedCert`. */
  crl: string;
  /** From the root CA only: nothing about the signing CA's clients. */
  rootCrl: string;
  remove(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function caConfig(dir: string, name: string): string {
  const p = (f: string): string => join(dir, `${name}-${f}`);
  mkdirSync(p('newcerts'));
  writeFileSync(p('index.txt'), '');
  writeFileSync(p('serial'), '1000\n');
  writeFileSync(p('crlnumber'), '01\n');
  const conf = p('ca.cnf');
  writeFileSync(conf, [
    '[ ca ]', 'default_ca = this_ca', '[ this_ca ]', `database = ${p('index.txt')}`, `new_certs_dir = ${p('newcerts')}`,
    `serial = ${p('serial')}`, `crlnumber = ${p('crlnumber')}`, `certificate = ${join(dir, `${name}.crt`)}`,
    `private_key = ${join(dir, `${name}.key`)}`, 'default_md = sha256', 'default_days = 2', 'default_crl_days = 2',
    'policy = any', 'copy_extensions = copy', 'unique_subject = no', '[ any ]', 'commonName = supplied', '',
  ].join('\n'));
  return conf;
}

export function makeChainCertificates(): ChainCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'skeeter-chain-'));
  openssl(dir, ['req', '-x509', ...EC, '-sha256', '-days', '2', '-subj', '/CN=Chain Root CA', '-keyout', 'root.key', '-out', 'root.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const rootConf = caConfig(dir, 'root');
  openssl(dir, ['req', ...EC, '-subj', '/CN=Chain Signing CA', '-keyout', 'signing.key', '-out', 'signing.csr',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(dir, ['ca', '-batch', '-config', rootConf, '-in', 'signing.csr', '-out', 'signing.crt']);
  const signConf = caConfig(dir, 'signing');
  const leaf = (name: string, cn: string, ext: string, conf: string, dates: string[] = []): void => {
    openssl(dir, ['req', ...EC, '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`, ...ext.split('\n').flatMap((e) => ['-addext', e])]);
    openssl(dir, ['ca', '-batch', '-config', conf, ...dates, '-in', `${name}.csr`, '-out', `${name}.crt`]);
  };
  leaf('server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth', rootConf);
  const clientExt = 'extendedKeyUsage=clientAuth';
  leaf('client', 'chain client', clientExt, signConf);
  leaf('revoked', 'chain client revoked', clientExt, signConf);
  leaf('expired', 'chain client expired', clientExt, signConf, ['-startdate', '120820000000Z', '-enddate', '120821000000Z']);
  openssl(dir, ['ca', '-config', signConf, '-gencrl', '-out', 'empty-crl.pem']);
  openssl(dir, ['ca', '-config', signConf, '-revoke', 'revoked.crt']);
  openssl(dir, ['ca', '-config', signConf, '-gencrl', '-out', 'crl.pem']);
  openssl(dir, ['ca', '-config', rootConf, '-gencrl', '-out', 'root-crl.pem']);
  writeFileSync(join(dir, 'client-ca.crt'), Buffer.concat([readFileSync(join(dir, 'root.crt')), readFileSync(join(dir, 'signing.crt'))]));
  const p = (f: string): string => join(dir, f);
  return {
    dir,
    rootCert: p('root.crt'),
    clientCa: p('client-ca.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    revokedCert: p('revoked.crt'),
    revokedKey: p('revoked.key'),
    expiredCert: p('expired.crt'),
    expiredKey: p('expired.key'),
    emptyCrl: p('empty-crl.pem'),
    crl: p('crl.pem'),
    rootCrl: p('root-crl.pem'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
