/**
 * The TLS alert a refused client certificate earns.
 *
 * Mosquitto lets OpenSSL verify the client's certificate inside the handshake, so a bad one is
 * answered with a fatal alert (certificate_expired, certificate_revoked, unknown_ca...) and the
 * client reports that reason. Node always completes the handshake and leaves the verdict to
 * JavaScript, with no way to send an alert; so the alert record is written here, straight to the
 * TCP socket, from the 'secureConnection' callback. At that moment Node's TLS layer has not yet
 * flushed what the handshake's last step produced, so the record goes out just where OpenSSL's
 * would have:
 * - TLS 1.2: before the server's ChangeCipherSpec and Finished, so in plaintext, and the client's
 *   handshake fails with the alert, as with Mosquitto.
 * - TLS 1.3: the server's Finished went out before the client's certificate was even read, so
 *   the alert is the first record of the server's application traffic (RFC 8446 5.2), sealed
 *   with the key of the secret the 'keylog' event gave, at sequence number 0 (session tickets,
 *   still buffered, come after it). Only the secret of a handshake still waiting for its verdict
 *   is held, and it is dropped once the verdict is given.
 * A resumed TLS 1.2 session (its Finished already sent) or an unknown suite gets no alert: the
 * connection is closed.
 */
import { createCipheriv, createHash, createHmac, type CipherCCMTypes, type CipherGCMTypes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The server's TLS 1.3 application traffic secret of each handshake awaiting its verdict. */
const serverSecrets = new WeakMap<TLSSocket, Buffer>();

/** Keeps each handshake's server traffic secret, for a server whose listener checks client certificates. */
export function keepServerSecrets(server: { on(event: 'keylog', listener: (line: Buffer, socket: TLSSocket) => void): unknown }): void {
  server.on('keylog', (line, socket) => {
    // NSS key log format: "<label> <client random> <secret>".
    if (!line.subarray(0, 24).equals(SERVER_TRAFFIC_SECRET_0)) return;
    const parts = line.toString('latin1').trim().split(' ');
    if (parts.length === 3) serverSecrets.set(socket, Buffer.from(parts[2]!, 'hex'));
  });
}
const SERVER_TRAFFIC_SECRET_0 = Buffer.from('SERVER_TRAFFIC_SECRET_0 ');

/** Forgets a handshake's secret (called once its verdict is known, whatever it is). */
export function forgetServerSecret(socket: TLSSocket): void {
  serverSecrets.delete(socket);
}

/** TLS alert descriptions (RFC 8446 6). */
export const Alert = {
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  certificateRevoked: 44,
  certificateExpired: 45,
  certificateUnknown: 46,
  unknownCa: 48,
  decryptError: 51,
  internalError: 80,
  certificateRequired: 116,
} as const;

/**
 * The alert OpenSSL sends for a certificate verify error (its ssl_x509err2alert table), by the
 * error's name as Node reports it in `authorizationError`.
 */
export function alertForVerifyError(code: string): number {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
    case 'CRL_HAS_EXPIRED':
      return Alert.certificateExpired;
    case 'CERT_REVOKED':
      return Alert.certificateRevoked;
    case 'CERT_SIGNATURE_FAILURE':
    case 'CRL_SIGNATURE_FAILURE':
      return Alert.decryptError;
    case 'INVALID_PURPOSE':
      return Alert.unsupportedCertificate;
    case 'CERT_CHAIN_TOO_LONG':
    case 'INVALID_CA':
    case 'PATH_LENGTH_EXCEEDED':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_GET_CRL':
    case 'UNABLE_TO_GET_CRL_ISSUER':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
      return Alert.unknownCa;
    case 'CA_KEY_TOO_SMALL':
    case 'CA_MD_TOO_WEAK':
    case 'CERT_NOT_YET_VALID':
    case 'CERT_REJECTED':
    case 'CERT_UNTRUSTED':
    case 'CRL_NOT_YET_VALID':
    case 'EE_KEY_TOO_SMALL':
    case 'ERROR_IN_CERT_NOT_AFTER_FIELD':
    case 'ERROR_IN_CERT_NOT_BEFORE_FIELD':
    case 'ERROR_IN_CRL_LAST_UPDATE_FIELD':
    case 'ERROR_IN_CRL_NEXT_UPDATE_FIELD':
    case 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY':
    case 'UNABLE_TO_DECRYPT_CERT_SIGNATURE':
    case 'UNABLE_TO_DECRYPT_CRL_SIGNATURE':
      return Alert.badCertificate;
    case 'APPLICATION_VERIFICATION':
      return Alert.handshakeFailure;
    default:
      return Alert.certificateUnknown;
  }
}

interface Suite {
  hash: 'sha256' | 'sha384';
  cipher: CipherGCMTypes | CipherCCMTypes | 'chacha20-poly1305';
  keyLength: number;
  tagLength: number;
}

const SUITES: Readonly<Record<string, Suite>> = {
  TLS_AES_128_GCM_SHA256: { hash: 'sha256', cipher: 'aes-128-gcm', keyLength: 16, tagLength: 16 },
  TLS_AES_256_GCM_SHA384: { hash: 'sha384', cipher: 'aes-256-gcm', keyLength: 32, tagLength: 16 },
  TLS_CHACHA20_POLY1305_SHA256: { hash: 'sha256', cipher: 'chacha20-poly1305', keyLength: 32, tagLength: 16 },
  TLS_AES_128_CCM_SHA256: { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 16 },
  TLS_AES_128_CCM_8_SHA256: { hash: 'sha256', cipher: 'aes-128-ccm', keyLength: 16, tagLength: 8 },
};

/** HKDF-Expand-Label with an empty context (RFC 8446 7.1). */
function expandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  const blocks: Buffer[] = [];
  let t = Buffer.alloc(0);
  for (let i = 1, got = 0; got < length; i++) {
    t = createHmac(hash, secret).update(Buffer.concat([t, info, Buffer.from([i])])).digest();
    blocks.push(t);
    got += t.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/**
 * A TLS 1.3 record carrying a fatal alert, sealed with the server's first application traffic
 * key at sequence number 0 (so the nonce is the IV itself). Undefined for an unknown suite.
 */
export function sealedAlert(suiteName: string, secret: Buffer, description: number): Buffer | undefined {
  const suite = SUITES[suiteName];
  if (suite === undefined || createHash(suite.hash).digest().length !== secret.length) return undefined;
  const key = expandLabel(suite.hash, secret, 'key', suite.keyLength);
  const nonce = expandLabel(suite.hash, secret, 'iv', 12);
  // TLSInnerPlaintext: the alert (level fatal, description), then its real content type.
  const inner = Buffer.from([2, description, 21]);
  // The outer header says application_data, TLS 1.2, and is the AEAD's additional data.
  const length = inner.length + suite.tagLength;
  const header = Buffer.from([23, 3, 3, length >> 8, length & 0xff]);
  let body: Buffer;
  let tag: Buffer;
  if (suite.cipher === 'aes-128-ccm') {
    const c = createCipheriv(suite.cipher, key, nonce, { authTagLength: suite.tagLength });
    c.setAAD(header, { plaintextLength: inner.length });
    body = Buffer.concat([c.update(inner), c.final()]);
    tag = c.getAuthTag();
  } else {
    const c = createCipheriv(suite.cipher as CipherGCMTypes, key, nonce, { authTagLength: suite.tagLength });
    c.setAAD(header);
    body = Buffer.concat([c.update(inner), c.final()]);
    tag = c.getAuthTag();
  }
  return Buffer.concat([header, body, tag]);
}

/** How long a refused client may take to hang up after the alert before the socket is destroyed. */
const LINGER_MS = 2000;

/** Refused clients still being given their moment, by the server they came in on. */
const lingering = new WeakMap<object, Set<TLSSocket>>();

/**
 * Refuses a client whose handshake just finished: on TLS 1.3 the alert goes out first, then the
 * TCP connection is half-closed and the client given a moment to hang up (closing at once could
 * answer its CONNECT with a reset that wipes the alert before it is read); else it is destroyed.
 * Must run in the 'secureConnection' callback itself, before TLS writes anything else.
 */
export function refuseWithAlert(socket: TLSSocket, description: number): void {
  const secret = serverSecrets.get(socket);
  serverSecrets.delete(socket);
  const raw = (socket as TLSSocket & { _parent?: unknown })._parent;
  const record = alertRecord(socket, secret, description);
  if (record === undefined || !isSocket(raw)) {
    socket.destroy();
    return;
  }
  socket.on('error', () => undefined); // the client answers with its own alert, or a reset
  // The listen socket's server (set by net.Server on each connection it accepts).
  const server = (raw as Socket & { server?: object }).server;
  let set: Set<TLSSocket> | undefined;
  if (server !== undefined) {
    set = lingering.get(server);
    if (set === undefined) lingering.set(server, (set = new Set()));
    set.add(socket);
  }
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  socket.once('close', () => {
    clearTimeout(timer);
    set?.delete(socket);
  });
  // Whatever the client sent (its CONNECT) is read and dropped, so its hang-up is seen.
  socket.resume();
  raw.end(record);
}

/** The alert record for this connection's TLS version, or undefined when none can be sent. */
function alertRecord(socket: TLSSocket, secret: Buffer | undefined, description: number): Buffer | undefined {
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') {
    const suite = socket.getCipher()?.standardName;
    return secret === undefined || suite === undefined ? undefined : sealedAlert(suite, secret, description);
  }
  if ((protocol === 'TLSv1.2' || protocol === 'TLSv1.1') && !socket.isSessionReused()) {
    // Alert record: type 21, the version, length 2, level fatal and the description.
    return Buffer.from([21, 3, protocol === 'TLSv1.2' ? 3 : 2, 0, 2, 2, description]);
  }
  return undefined;
}

/** Destroys the refused clients still lingering on a server (the broker is stopping). */
export function dropRefusedClients(server: object): void {
  const set = lingering.get(server);
  if (set === undefined) return;
  for (const socket of [...set]) socket.destroy();
  set.clear();
}

function isSocket(x: unknown): x is Socket {
  return typeof x === 'object' && x !== null && typeof (x as Socket).end === 'function' && typeof (x as Socket).write === 'function';
}
