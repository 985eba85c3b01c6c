/**
 * TLS listeners (reference 2.6): the secure context built from the listener's files with
 * Mosquitto's startup error lines, the client certificate checks done after the handshake
 * (so every refusal is logged as Mosquitto logs it), the username taken from the certificate,
 * and the SIGHUP reload of certificates (new handshakes use the new files; connected clients
 * keep theirs).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, DEFAULT_CIPHERS, type SecureContextOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../log.js';
import type { ListenerSettings, ListenerTlsSettings } from '../settings.js';
import { checkRevocation, parseCrlPem, type RevocationList } from './crl.js';
import type { CertificateUsername } from './listeners.js';
import { loadPskFile, pskIdentityOf, pskKeyFor } from './psk.js';
import { Alert, alertForVerifyError, keepServerSecrets } from './tls-alert.js';

/** A startup failure whose log lines are already written; the broker exits with `exitCode` (as Mosquitto). */
export class ListenerOpenError extends Error {
  readonly exitCode: number;
  constructor(message: string | undefined, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** OpenSSL's lines for a file that does not exist, as Mosquitto prints them after its own line. */
const MISSING_FILE_LINES = [
  'OpenSSL Error[0]: error:80000002:system library::No such file or directory',
  'OpenSSL Error[1]: error:10080002:BIO routines::system lib',
  'OpenSSL Error[2]: error:0A080002:SSL routines::system lib',
];

const MIN_VERSIONS: Readonly<Record<string, 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'>> = {
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
};

const DEFAULT_TLS13_SUITES = DEFAULT_CIPHERS.split(':').filter((c) => c.startsWith('TLS_')).join(':');
const DEFAULT_TLS12_CIPHERS = DEFAULT_CIPHERS.split(':').filter((c) => !c.startsWith('TLS_')).join(':');

function fail(log: Logger, lines: string[], exitCode = 1): never {
  for (const l of lines) log.error(l);
  throw new ListenerOpenError(lines[0], exitCode);
}

/**
 * Files Mosquitto reads before it opens any listener (its security init): the psk_file of every
 * TLS-PSK listener. Throws ListenerOpenError after logging, with Mosquitto's exit code.
 */
export function checkListenerFiles(listeners: readonly ListenerSettings[], log: Logger): void {
  const seen = new Set<string>();
  for (const l of listeners) {
    const path = l.tls?.pskHint !== undefined ? l.tls.pskFile : undefined;
    if (path === undefined || seen.has(path)) continue;
    seen.add(path);
    const r = loadPskFile(path);
    if (!r.ok) fail(log, r.lines, r.exitCode);
  }
}

function readOrFail(log: Logger, path: string, first: string, opensslLines = MISSING_FILE_LINES): Buffer {
  try {
    return readFileSync(path);
  } catch {
    return fail(log, [first, ...opensslLines]);
  }
}

/** Every certificate in a capath directory (OpenSSL looks them up by hash; reading them all trusts the same set). */
function readCaPath(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    // Mosquitto starts with a missing capath (checked on 2.0.11); clients then fail verification.
    return [];
  }
  const out: Buffer[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      const pem = readFileSync(path);
      if (pem.includes('-----BEGIN CERTIFICATE-----')) out.push(pem);
    } catch {
      // Unreadable entries are skipped, as OpenSSL's hashed lookup would never find them.
    }
  }
  return out;
}

/**
 * The Node TLS options for a listener, reading its files now. Throws ListenerOpenError after
 * logging Mosquitto's lines for the first problem (missing file, bad key, bad cipher list...).
 */
export function tlsServerOptions(
  t: ListenerTlsSettings,
  log: Logger,
  psk: PskKeys = { keys: new Map() },
  verify: VerifyMaterial = { issuers: [], crls: undefined },
): TlsOptions {
  if (t.tlsEngine !== undefined || t.tlsKeyformEngine) {
    fail(log, ['Error: tls_engine and tls_keyform engine are not supported in skeeter (Node.js has no OpenSSL engine support); use a PEM keyfile.']);
  }
  const minVersion = t.tlsVersion === undefined ? 'TLSv1.2' : MIN_VERSIONS[t.tlsVersion];
  if (minVersion === undefined) fail(log, [`Error: Unsupported tls_version "${t.tlsVersion}".`]);
  if (t.ciphers !== undefined && !cipherListValid(t.ciphers)) {
    fail(log, [`Error: Unable to set TLS ciphers. Check cipher list "${t.ciphers}".`]);
  }
  if (t.ciphersTls13 !== undefined && !cipherListValid(t.ciphersTls13)) {
    fail(log, [`Error: Unable to set TLS 1.3 ciphersuites. Check cipher_tls13 list "${t.ciphersTls13}".`]);
  }
  const isPsk = t.pskHint !== undefined;
  // PSK listeners need OpenSSL's PSK suites, which Node's default list leaves out.
  const tls12 = t.ciphers ?? (isPsk ? `PSK:${DEFAULT_TLS12_CIPHERS.replace(':!PSK', '')}` : DEFAULT_TLS12_CIPHERS);
  const options: TlsOptions = {
    minVersion,
    ciphers: `${t.ciphersTls13 ?? DEFAULT_TLS13_SUITES}:${tls12}`,
  };
  if (t.certfile !== undefined && t.keyfile !== undefined) {
    const cert = readOrFail(log, t.certfile, `Error: Unable to load server certificate "${t.certfile}". Check certfile.`);
    const key = readOrFail(log, t.keyfile, `Error: Unable to load server key file "${t.keyfile}". Check keyfile.`);
    options.cert = cert;
    options.key = key;
    try {
      createSecureContext({ cert, key });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      // A key that does not match the certificate, or unparsable PEM: Mosquitto blames the key file.
      const line = /key/i.test(message)
        ? `Error: Unable to load server key file "${t.keyfile}". Check keyfile.`
        : `Error: Unable to load server certificate "${t.certfile}". Check certfile.`;
      fail(log, [line, `OpenSSL Error[0]: ${message}`]);
    }
  }
  const ca: Buffer[] = [];
  if (t.cafile !== undefined) {
    ca.push(readOrFail(log, t.cafile, `Error: Unable to load CA certificates. Check cafile "${t.cafile}".`, [
      'OpenSSL Error[0]: error:80000002:system library::No such file or directory',
      'OpenSSL Error[1]: error:10000080:BIO routines::no such file',
      'OpenSSL Error[2]: error:05880002:x509 certificate routines::system lib',
    ]));
  }
  if (t.capath !== undefined) ca.push(...readCaPath(t.capath));
  if (ca.length > 0) options.ca = ca;
  // Client certificates are asked for when they are required or a CA to check them is given;
  // the verdict is applied after the handshake (see checkClientCertificate) so it can be logged.
  options.requestCert = t.requireCertificate || t.cafile !== undefined || t.capath !== undefined;
  options.rejectUnauthorized = false;
  // The CRLs are applied by the broker after the handshake (crl.ts explains why not by Node).
  let crls: RevocationList[] | undefined;
  if (t.crlfile !== undefined) {
    const first = `Error: Unable to load certificate revocation file "${t.crlfile}". Check crlfile.`;
    const pem = readOrFail(log, t.crlfile, first, [
      'Error: No such file or directory',
      'OpenSSL Error[0]: error:80000002:system library::No such file or directory',
      'OpenSSL Error[1]: error:10080002:BIO routines::system lib',
      'OpenSSL Error[2]: error:05880002:x509 certificate routines::system lib',
    ]);
    try {
      crls = parseCrlPem(pem.toString('latin1'));
    } catch (e) {
      fail(log, [first, `Error: ${e instanceof Error ? e.message : String(e)} in a CRL.`]);
    }
    if (crls.length === 0) {
      fail(log, [first, 'OpenSSL Error[0]: error:0480006C:PEM routines::no start line', 'OpenSSL Error[1]: error:05880009:x509 certificate routines::PEM lib']);
    }
  }
  if (t.dhparamfile !== undefined) {
    let dhparam: Buffer | undefined;
    try {
      dhparam = readFileSync(t.dhparamfile);
      createSecureContext({ dhparam });
    } catch {
      fail(log, [`Error loading dhparamfile "${t.dhparamfile}".`]);
    }
    options.dhparam = dhparam;
  }
  try {
    createSecureContext(options as SecureContextOptions);
  } catch (e) {
    fail(log, [`Error: Unable to create TLS context: ${e instanceof Error ? e.message : String(e)}`]);
  }
  // Only now, with every file loaded: a reload that fails keeps the material in use.
  verify.crls = crls;
  verify.issuers = crls === undefined ? [] : certificatesIn(ca);
  if (isPsk) {
    options.pskIdentityHint = t.pskHint!;
    // The psk_file is read when the listener opens and on each SIGHUP; the callback reads the
    // holder, so a reload (which cannot replace the callback of a running server) still applies.
    let keys = new Map<string, Buffer>();
    if (t.pskFile !== undefined) {
      const r = loadPskFile(t.pskFile);
      if (!r.ok) fail(log, r.lines, r.exitCode);
      keys = r.keys;
    }
    psk.keys = keys;
    options.pskCallback = (socket: TLSSocket, identity: string) => pskKeyFor(psk.keys, identity, socket);
  }
  return options;
}

function cipherListValid(list: string): boolean {
  try {
    createSecureContext({ ciphers: list });
    return true;
  } catch {
    return false;
  }
}

/** Every certificate in some PEM files (the CA file and capath entries), skipping what does not parse. */
function certificatesIn(pems: readonly Buffer[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    const re = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
    for (const m of pem.toString('latin1').matchAll(re)) {
      try {
        out.push(new X509Certificate(m[0]));
      } catch {
        // OpenSSL would not have trusted it either.
      }
    }
  }
  return out;
}

/** What a refused client certificate gets: the OpenSSL error Mosquitto logs, and the TLS alert. */
export interface CertificateRefusal {
  error: string;
  alert: number;
}

const VERIFY_FAILED = 'error:0A000086:SSL routines::certificate verify failed';

/**
 * The verdict on a client's certificate once the handshake is done, as OpenSSL would have given
 * it inside the handshake: undefined = accepted, else the OpenSSL error Mosquitto logs and the
 * alert OpenSSL would have sent.
 */
export function checkClientCertificate(socket: TLSSocket, listener: ListenerSettings): CertificateRefusal | undefined {
  const t = listener.tls!;
  if (t.pskHint !== undefined) return undefined;
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) {
    // TLS 1.3 has its own alert for this (RFC 8446 4.4.2.4); before it, a handshake failure.
    if (!t.requireCertificate) return undefined;
    const alert = socket.getProtocol() === 'TLSv1.3' ? Alert.certificateRequired : Alert.handshakeFailure;
    return { error: 'error:0A0000C7:SSL routines::peer did not return a certificate', alert };
  }
  // A certificate that was sent is always checked (SSL_VERIFY_PEER), required or not.
  let code = socket.authorized ? undefined : String(socket.authorizationError ?? 'CERT_REJECTED');
  const verify = tlsListeners.get(listener)?.verify;
  // OpenSSL checks revocation before the certificate's own dates, so a revoked certificate that
  // also expired is reported revoked; chain errors come first.
  if (verify?.crls !== undefined && (code === undefined || code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID')) {
    code = checkRevocation(cert, [...peerChain(socket), ...verify.issuers], verify.crls) ?? code;
  }
  return code === undefined ? undefined : { error: VERIFY_FAILED, alert: alertForVerifyError(code) };
}

/** The certificates above the client's in the chain Node built for it (from what the client sent and the CA files). */
function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true);
  for (let i = 0; i < 10 && c?.raw !== undefined; i++) {
    try {
      out.push(new X509Certificate(c.raw));
    } catch {
      break;
    }
    if (c.issuerCertificate === undefined || c.issuerCertificate === c) break;
    c = c.issuerCertificate;
  }
  return out.slice(1);
}

/**
 * use_identity_as_username / use_subject_as_username: the username the certificate (first CN,
 * or the RFC 2253 subject) or the PSK identity gives; undefined when the listener uses neither.
 */
export function certificateUsername(socket: TLSSocket, t: ListenerTlsSettings): CertificateUsername | undefined {
  if (!t.useIdentityAsUsername && !t.useSubjectAsUsername) return undefined;
  if (t.pskHint !== undefined) {
    // For PSK the identity the client sent is the username (use_identity_as_username only).
    if (!t.useIdentityAsUsername) return undefined;
    const id = pskIdentityOf(socket);
    return id === undefined ? { refused: 'no-certificate' } : { username: id };
  }
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return { refused: 'no-certificate' };
  const rdns = subjectRdns(cert);
  if (t.useIdentityAsUsername) {
    const cn = rdns.find(([k]) => k === 'CN');
    return cn ? { username: cn[1] } : { refused: 'no-common-name' };
  }
  return { username: rfc2253(rdns) };
}

/**
 * The subject's attributes in certificate order (Node prints one per line, most significant
 * first, with RFC 2253 escapes already applied: they are undone here so values are raw).
 */
function subjectRdns(cert: X509Certificate): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out.push([line.slice(0, eq), unescapeValue(line.slice(eq + 1))]);
  }
  return out;
}

function unescapeValue(v: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(v, 'utf8');
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x5c && i + 1 < raw.length) {
      const hex = raw.subarray(i + 1, i + 3).toString('latin1');
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(raw[i + 1]!);
        i += 1;
      }
    } else bytes.push(b);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * The subject as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 writes it (what Mosquitto
 * uses for use_subject_as_username): last attribute first, joined by commas, with RFC 2253
 * escapes and bytes >= 0x80 written as \XX.
 */
export function rfc2253(rdns: ReadonlyArray<readonly [string, string]>): string {
  return [...rdns].reverse().map(([k, v]) => `${k}=${escapeRfc2253(v)}`).join(',');
}

function escapeRfc2253(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    if (b >= 0x80 || b < 0x20 || b === 0x7f) out += `\\${b.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (',+"\\<>;'.includes(c)) out += `\\${c}`;
    else if ((i === 0 && (c === '#' || c === ' ')) || (i === bytes.length - 1 && c === ' ')) out += `\\${c}`;
    else out += c;
  }
  return out;
}

/** Node's TLS error message as OpenSSL's error string ("error:0A000418:SSL routines::..."). */
export function opensslErrorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  // The peer hung up mid-handshake: OpenSSL 3 reports it as an unexpected EOF.
  if ((e as NodeJS.ErrnoException | undefined)?.code === 'ECONNRESET') return 'error:0A000126:SSL routines::unexpected eof while reading';
  // Node adds the function, source file and alert number; OpenSSL 3's own string has none of them.
  const m = /error:([0-9A-F]{8}):([^:]*):[^:]*:([^:\n]*)/.exec(message);
  return m ? `error:${m[1]}:${m[2]}::${m[3]}` : message;
}

/** Handshake errors where the client's first bytes were not TLS at all (plain MQTT on a TLS port). */
export function isNotTls(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
  return code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_UNKNOWN_PROTOCOL'
    || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG';
}

/** A TLS-PSK listener's keys, replaced on SIGHUP. */
export interface PskKeys {
  keys: Map<string, Buffer>;
}

/** What the broker itself checks client certificates against: the CRLs and their possible issuers. */
export interface VerifyMaterial {
  /** undefined without a crlfile. */
  crls: RevocationList[] | undefined;
  issuers: X509Certificate[];
}

interface TlsListenerState {
  servers: Array<{ setSecureContext(o: SecureContextOptions): void }>;
  psk: PskKeys;
  verify: VerifyMaterial;
}

/** TLS servers per listener, so SIGHUP can give them fresh certificates and PSK keys. */
const tlsListeners = new WeakMap<ListenerSettings, TlsListenerState>();

function stateOf(listener: ListenerSettings): TlsListenerState {
  let state = tlsListeners.get(listener);
  if (state === undefined) {
    state = { servers: [], psk: { keys: new Map() }, verify: { crls: undefined, issuers: [] } };
    tlsListeners.set(listener, state);
  }
  return state;
}

/** The TLS options of a listener's server, with its reloadable PSK keys. */
export function listenerTlsOptions(listener: ListenerSettings, log: Logger): TlsOptions {
  const state = stateOf(listener);
  return tlsServerOptions(listener.tls!, log, state.psk, state.verify);
}

type TlsServerLike = { setSecureContext(o: SecureContextOptions): void } & Parameters<typeof keepServerSecrets>[0];

/**
 * A listener's TLS server, for reloads; when it asks clients for certificates, each handshake's
 * server traffic secret is kept until the certificate's verdict, to send the refusal's alert.
 */
export function registerTlsServer(listener: ListenerSettings, server: TlsServerLike, options: TlsOptions): void {
  stateOf(listener).servers.push(server);
  if (options.requestCert === true) keepServerSecrets(server);
}

/**
 * SIGHUP: re-reads the listener's certificate, key, CA, CRL (and psk_file) for new handshakes.
 * Connected clients keep their sessions. A file that fails to load leaves the old context in use.
 */
export function reloadListenerCertificates(listener: ListenerSettings, log: Logger): void {
  const state = tlsListeners.get(listener);
  if (state === undefined || listener.tls === undefined) return;
  const psk: PskKeys = { keys: state.psk.keys };
  const verify: VerifyMaterial = { ...state.verify };
  let options: TlsOptions;
  try {
    options = tlsServerOptions(listener.tls, log, psk, verify);
  } catch (e) {
    if (e instanceof ListenerOpenError) return;
    throw e;
  }
  state.psk.keys = psk.keys;
  state.verify = verify;
  for (const s of state.servers) s.setSecureContext(options as SecureContextOptions);
}
