/**
 * crlfile: certificate revocation lists read and applied by the broker itself.
 *
 * Node's `crl` TLS option turns on OpenSSL's X509_V_FLAG_CRL_CHECK_ALL, which wants a CRL for
 * every CA in the chain: with a root and a signing CA and a CRL from the signing CA only (the
 * usual layout, and Mosquitto's own test set) every client then fails with "unable to get
 * certificate CRL". Mosquitto sets X509_V_FLAG_CRL_CHECK alone: only the client's own
 * certificate is looked up, in the CRLs of its issuer. This module does that check after the
 * handshake: find a CRL from the certificate's issuer, verify its signature with the issuer's
 * key, check its dates, and look for the certificate's serial number in it.
 */
import { verify as verifySignature, constants, type KeyObject, type X509Certificate } from 'node:crypto';

/** A DER element: tag byte, the whole encoding, and its contents. */
interface Der {
  tag: number;
  whole: Buffer;
  body: Buffer;
}

function readDer(buf: Buffer, at: number): Der & { end: number } {
  if (at + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[at]!;
  let len = buf[at + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + 2 + i]!;
    head += n;
  }
  const end = at + head + len;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, whole: buf.subarray(at, end), body: buf.subarray(at + head, end), end };
}

/** The elements inside a constructed DER element. */
function children(body: Buffer): Der[] {
  const out: Der[] = [];
  for (let at = 0; at < body.length; ) {
    const d = readDer(body, at);
    out.push(d);
    at = d.end;
  }
  return out;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const UTC_TIME = 0x17;
const GENERALIZED_TIME = 0x18;

function expect(d: Der | undefined, tag: number, what: string): Der {
  if (d === undefined || d.tag !== tag) throw new Error(`bad ${what}`);
  return d;
}

/** An INTEGER's value as uppercase hex without leading zero bytes (how serials are compared). */
function integerHex(d: Der): string {
  let b = d.body;
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  return b.toString('hex').toUpperCase();
}

function oid(body: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of body) {
    v = v * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

function time(d: Der): Date {
  const s = d.body.toString('latin1');
  let m: RegExpExecArray | null;
  if (d.tag === UTC_TIME && (m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s))) {
    const yy = Number(m[1]);
    // RFC 5280 4.1.2.5.1: two-digit years 50-99 are 19xx, 00-49 are 20xx.
    return new Date(Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  if (d.tag === GENERALIZED_TIME && (m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)?Z$/.exec(s))) {
    return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)));
  }
  throw new Error('bad time');
}

/** CRLReason removeFromCRL (RFC 5280 5.3.1): the entry no longer revokes the certificate. */
const REASON_REMOVE_FROM_CRL = 8;
const OID_CRL_REASON = '2.5.29.21';

export interface RevocationList {
  /** The issuer Name, DER-encoded (compared byte for byte with a certificate's issuer). */
  issuer: Buffer;
  thisUpdate: Date;
  nextUpdate: Date | undefined;
  /** Serial numbers (uppercase hex, no leading zeros) of the certificates it revokes. */
  revoked: Set<string>;
  /** The signed part, its algorithm and signature, for checking against the issuer's key. */
  tbs: Buffer;
  algorithm: string;
  algorithmParams: Buffer | undefined;
  signature: Buffer;
}

/** One DER CertificateList (RFC 5280 5.1). Throws on anything it cannot read. */
export function parseCrlDer(der: Buffer): RevocationList {
  const top = expect(readDer(der, 0), SEQUENCE, 'CertificateList');
  const [tbsEl, algEl, sigEl] = children(top.body);
  const tbs = expect(tbsEl, SEQUENCE, 'TBSCertList');
  const alg = children(expect(algEl, SEQUENCE, 'signatureAlgorithm').body);
  const sig = expect(sigEl, 0x03, 'signatureValue');
  const fields = children(tbs.body);
  let i = 0;
  if (fields[i]?.tag === INTEGER) i++; // version v2
  expect(fields[i++], SEQUENCE, 'signature');
  const issuer = expect(fields[i++], SEQUENCE, 'issuer');
  const thisUpdate = time(fields[i++]!);
  let nextUpdate: Date | undefined;
  if (fields[i]?.tag === UTC_TIME || fields[i]?.tag === GENERALIZED_TIME) nextUpdate = time(fields[i++]!);
  const revoked = new Set<string>();
  if (fields[i]?.tag === SEQUENCE) {
    for (const entry of children(fields[i++]!.body)) {
      const [serial, , extensions] = children(expect(entry, SEQUENCE, 'revoked entry').body);
      if (extensions !== undefined && entryReason(extensions) === REASON_REMOVE_FROM_CRL) continue;
      revoked.add(integerHex(expect(serial, INTEGER, 'serial')));
    }
  }
  const algOid = expect(alg[0], 0x06, 'algorithm');
  return {
    issuer: Buffer.from(issuer.whole),
    thisUpdate,
    nextUpdate,
    revoked,
    tbs: Buffer.from(tbs.whole),
    algorithm: oid(algOid.body),
    algorithmParams: alg[1] === undefined ? undefined : Buffer.from(alg[1].whole),
    // The BIT STRING's first byte counts unused bits (always 0 for a signature).
    signature: Buffer.from(sig.body.subarray(1)),
  };
}

function entryReason(extensions: Der): number | undefined {
  for (const ext of children(extensions.body)) {
    const parts = children(ext.body);
    if (parts[0]?.tag !== 0x06 || oid(parts[0].body) !== OID_CRL_REASON) continue;
    const value = parts[parts.length - 1];
    if (value?.tag !== 0x04) return undefined;
    const e = readDer(value.body, 0);
    return e.tag === 0x0a ? e.body[0] : undefined;
  }
  return undefined;
}

/**
 * Every CRL in a PEM file, as OpenSSL's X509_load_crl_file reads it (other blocks are skipped).
 * Throws when a CRL block cannot be decoded; an empty result means the file held no CRL.
 */
export function parseCrlPem(text: string): RevocationList[] {
  const out: RevocationList[] = [];
  const re = /-----BEGIN X509 CRL-----([\s\S]*?)-----END X509 CRL-----/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(parseCrlDer(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
  }
  return out;
}

/** A certificate's issuer Name (DER) and serial number, read from its TBSCertificate. */
export function issuerAndSerial(cert: X509Certificate): { issuer: Buffer; serial: string } {
  const top = readDer(cert.raw, 0);
  const tbs = children(expect(children(top.body)[0], SEQUENCE, 'TBSCertificate').body);
  let i = 0;
  if (tbs[i]?.tag === 0xa0) i++; // [0] version
  const serial = integerHex(expect(tbs[i++], INTEGER, 'serial'));
  i++; // signature AlgorithmIdentifier
  return { issuer: Buffer.from(expect(tbs[i], SEQUENCE, 'issuer').whole), serial };
}

const RSA_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const DIGEST_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_ED25519 = '1.3.101.112';
const OID_ED448 = '1.3.101.113';

/** Whether the CRL was signed by `key` (false for an algorithm this check does not know). */
export function crlSignedBy(crl: RevocationList, key: KeyObject): boolean {
  try {
    const hash = RSA_HASHES[crl.algorithm];
    if (hash !== undefined) return verifySignature(hash, crl.tbs, key, crl.signature);
    if (crl.algorithm === OID_ED25519 || crl.algorithm === OID_ED448) return verifySignature(null, crl.tbs, key, crl.signature);
    if (crl.algorithm === OID_RSA_PSS) {
      // RSASSA-PSS-params (RFC 4055): [0] hash (default SHA-1), [2] salt length (default 20).
      let pssHash = 'sha1';
      let saltLength = 20;
      const params = crl.algorithmParams === undefined ? [] : children(readDer(crl.algorithmParams, 0).body);
      for (const p of params) {
        const inner = readDer(p.body, 0);
        if (p.tag === 0xa0) pssHash = DIGEST_OIDS[oid(children(inner.body)[0]!.body)] ?? '';
        if (p.tag === 0xa2) saltLength = Number.parseInt(integerHex(inner), 16);
      }
      if (pssHash === '') return false;
      return verifySignature(pssHash, crl.tbs, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, crl.signature);
    }
  } catch {
    // A key of the wrong type for the algorithm: not signed by it.
  }
  return false;
}

/** The OpenSSL verify errors this check gives, as Node names them (X509_V_ERR_* without the prefix). */
export type RevocationError = 'UNABLE_TO_GET_CRL' | 'CRL_SIGNATURE_FAILURE' | 'CRL_NOT_YET_VALID' | 'CRL_HAS_EXPIRED' | 'CERT_REVOKED';

/**
 * OpenSSL's CRL check of one certificate (X509_V_FLAG_CRL_CHECK): undefined when it passes.
 * `issuers` are the certificates that may have issued it (the chain the client sent, the CA
 * files); the CRL must come from one of them, by name and by signature.
 */
export function checkRevocation(
  cert: X509Certificate,
  issuers: readonly X509Certificate[],
  crls: readonly RevocationList[],
  now = new Date(),
): RevocationError | undefined {
  const { issuer, serial } = issuerAndSerial(cert);
  const keys = issuers.filter((c) => cert.checkIssued(c) && cert.verify(c.publicKey)).map((c) => c.publicKey);
  let best: RevocationError = 'UNABLE_TO_GET_CRL';
  for (const crl of crls) {
    if (!crl.issuer.equals(issuer)) continue;
    if (!keys.some((k) => crlSignedBy(crl, k))) {
      if (best === 'UNABLE_TO_GET_CRL') best = 'CRL_SIGNATURE_FAILURE';
      continue;
    }
    // A CRL whose dates are wrong counts only when no better one is found (OpenSSL scores them).
    let dated: RevocationError | undefined;
    if (crl.thisUpdate > now) dated = 'CRL_NOT_YET_VALID';
    else if (crl.nextUpdate !== undefined && crl.nextUpdate < now) dated = 'CRL_HAS_EXPIRED';
    if (dated === undefined) return crl.revoked.has(serial) ? 'CERT_REVOKED' : undefined;
    best = dated;
  }
  return best;
}
