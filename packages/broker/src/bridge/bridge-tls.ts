/**
 * The TLS side of a bridge (bridge_cafile/capath/certfile/keyfile/insecure/tls_version/alpn, or
 * bridge_identity/bridge_psk), on node:tls. Like Mosquitto's bridge: the remote's certificate
 * chain is always verified against the CA file or directory; bridge_insecure only skips the
 * host name check.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type DetailedPeerCertificate, type SecureVersion, type TLSSocket } from 'node:tls';
import type { BridgeTlsConfig } from '../config/types.js';
import { opensslErrorText } from '../transport/tls.js';
import { checkStapledOcsp } from './ocsp.js';

export function usesTls(t: BridgeTlsConfig): boolean {
  return t.cafile !== undefined || t.capath !== undefined || t.psk !== undefined;
}

/** bridge_tls_version names Mosquitto accepts, as the lowest version allowed. */
const VERSIONS: Record<string, SecureVersion> = { tlsv1: 'TLSv1', 'tlsv1.1': 'TLSv1.1', 'tlsv1.2': 'TLSv1.2', 'tlsv1.3': 'TLSv1.3' };

/** Every PEM certificate in a directory (bridge_capath; OpenSSL looks them up by hash name). */
function certificatesIn(dir: string): Buffer[] {
  const out: Buffer[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path);
      if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(text);
    } catch {
      // An unreadable entry is skipped, as OpenSSL's directory lookup skips it.
    }
  }
  return out;
}

/** tls.connect passes requestOCSP on to its TLSSocket (the typings list it only there). */
type BridgeConnectionOptions = ConnectionOptions & { requestOCSP?: boolean };

export function bridgeTlsOptions(t: BridgeTlsConfig, host: string): BridgeConnectionOptions {
  const options: BridgeConnectionOptions = { host, servername: isIp(host) ? undefined : host };
  if (t.version !== undefined) {
    const v = VERSIONS[t.version];
    if (v !== undefined) options.minVersion = v;
  }
  if (t.alpn !== undefined) options.ALPNProtocols = [t.alpn];
  if (t.psk !== undefined) {
    const identity = t.pskIdentity ?? '';
    const key = Buffer.from(t.psk, 'hex');
    // PSK suites are left out of Node's default list; TLS 1.2 PSK is what Node offers.
    options.ciphers = 'PSK';
    options.maxVersion = 'TLSv1.2';
    options.pskCallback = () => ({ psk: key, identity });
    options.checkServerIdentity = () => undefined;
    return options;
  }
  const ca: Buffer[] = [];
  if (t.cafile !== undefined) ca.push(readFileSync(t.cafile));
  if (t.capath !== undefined) ca.push(...certificatesIn(t.capath));
  options.ca = ca;
  if (t.certfile !== undefined) options.cert = readFileSync(t.certfile);
  if (t.keyfile !== undefined) options.key = readFileSync(t.keyfile);
  options.rejectUnauthorized = true;
  // bridge_require_ocsp: ask the remote to staple its OCSP response (status_request).
  if (t.requireOcsp) options.requestOCSP = true;
  // bridge_insecure: the chain is still verified, only the host name is not.
  options.checkServerIdentity = t.insecure ? () => undefined : (name, cert) => checkServerIdentity(name, cert);
  return options;
}

/**
 * The remote's certificate, its issuer and the verified chain above it. (Read from the detailed
 * certificate only: Node leaves its issuer links out once getPeerX509Certificate() was called.)
 */
function peerChain(socket: TLSSocket): [X509Certificate, X509Certificate | undefined, X509Certificate[]] {
  const chain: X509Certificate[] = [];
  let cert: DetailedPeerCertificate = socket.getPeerCertificate(true);
  const peer = new X509Certificate(cert.raw);
  for (let i = 0; i < 10 && cert.issuerCertificate !== undefined && cert.issuerCertificate !== cert; i++) {
    cert = cert.issuerCertificate;
    chain.push(new X509Certificate(cert.raw));
  }
  return [peer, chain[0], chain];
}

function isIp(host: string): boolean {
  return /^[0-9.]+$/.test(host) || host.includes(':');
}

/**
 * Opens the TLS connection; handshake failures are logged as Mosquitto logs OpenSSL's errors and
 * close the socket (the bridge then retries as after any lost connection).
 */
export function bridgeTlsConnect(
  t: BridgeTlsConfig,
  host: string,
  port: number,
  bind: { localAddress?: string },
  logError: (text: string) => void,
  onFailed: () => void,
  logDebug: (text: string) => void = () => undefined,
): TLSSocket {
  // Unreadable certificate files throw here: the caller treats that as a failed attempt.
  const options = bridgeTlsOptions(t, host);
  const socket = tlsConnect({ ...options, port, ...bind });
  socket.setNoDelay(true);
  if (t.requireOcsp) {
    let stapled: Buffer | undefined;
    // Node emits null when the remote staples nothing.
    socket.on('OCSPResponse', (response: Buffer | null) => (stapled = response ?? undefined));
    // Registered before the bridge's own listener: a failed check closes the socket before
    // any CONNECT goes out, as Mosquitto's status callback fails the handshake.
    socket.once('secureConnect', () => {
      const [peer, issuer, chain] = peerChain(socket);
      const verdict = checkStapledOcsp(stapled, peer, issuer, chain);
      for (const line of verdict.lines) logDebug(line);
      if (verdict.ok) return;
      const errors = [...verdict.errors, 'error:0A000148:SSL routines::invalid status response'];
      errors.forEach((e, i) => logError(`OpenSSL Error[${i}]: ${e}`));
      socket.destroy();
      onFailed();
    });
  }
  socket.once('error', (e) => {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code === 'ECONNREFUSED') return;
    // Mosquitto's lines for a failed certificate check: Node checks the host name after the
    // handshake and names chain failures by OpenSSL's verify code, without an error string.
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      logError('Error: host name verification failed.');
      logError('OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed');
    } else if (/CERT|ISSUER|SIGNATURE|CHAIN/.test(code) && !code.startsWith('ERR_')) {
      logError('OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed');
    } else {
      logError(`OpenSSL Error[0]: ${opensslErrorText(e)}`);
    }
    onFailed();
  });
  return socket;
}
