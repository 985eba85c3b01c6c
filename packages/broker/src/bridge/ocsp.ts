/**
 * bridge_require_ocsp: the check of the OCSP response a TLS remote staples (RFC 6960), done as
 * Mosquitto's callback does it with OpenSSL (lib/tls_mosq.c): a response must be there, its
 * status successful, its signature valid from a signer with the authority to sign it, and every
 * certificate status in it good and current (five minutes of leeway after nextUpdate).
 * Stricter than Mosquitto in one point: a status for the remote's own certificate (serial number
 * and issuer hashes of its CertID) must be among them.
 *
 * The DER is read here with a small TLV reader; signatures are checked with node:crypto.
 */
import { createHash, verify as verifySignature, X509Certificate } from 'node:crypto';

/** What Mosquitto's callback logs at debug level, and whether the response passed. */
export interface OcspVerdict {
  ok: boolean;
  lines: string[];
  /** OpenSSL's errors for the failure, before its final "invalid status response". */
  errors: string[];
}

/** OpenSSL's OCSP errors (library 39, reasons from ocsperr.h) as its error strings print them. */
const SIGNER_NOT_FOUND = 'error:13800076:OCSP routines::signer certificate not found';
const SIGNATURE_FAILURE = 'error:13800075:OCSP routines::signature failure';
const CERTIFICATE_VERIFY_ERROR = 'error:13800065:OCSP routines::certificate verify error';
const RSA_BAD_SIGNATURE = [
  'error:0200008A:rsa routines::invalid padding',
  'error:02000072:rsa routines::padding check failed',
  'error:1C880004:Provider routines::RSA lib',
  'error:06880006:asn1 encoding routines::EVP lib',
];

interface Tlv {
  tag: number;
  /** The whole element (tag, length, value). */
  der: Buffer;
  value: Buffer;
}

class DerError extends Error {}

function readTlv(buf: Buffer, pos: number): { tlv: Tlv; next: number } {
  if (pos + 2 > buf.length) throw new DerError('truncated');
  const tag = buf[pos]!;
  let len = buf[pos + 1]!;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + 2 + n > buf.length) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + 2 + i]!;
    head += n;
  }
  const end = pos + head + len;
  if (end > buf.length) throw new DerError('truncated');
  return { tlv: { tag, der: buf.subarray(pos, end), value: buf.subarray(pos + head, end) }, next: end };
}

/** The elements inside a constructed value. */
function children(value: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < value.length; ) {
    const { tlv, next } = readTlv(value, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number): Tlv {
  if (t === undefined || t.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}`);
  return t;
}

const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const ENUMERATED = 0x0a;
const OID = 0x06;
const BIT_STRING = 0x03;
const INTEGER = 0x02;
const GENERALIZED_TIME = 0x18;

const OID_BASIC_RESPONSE = '1.3.6.1.5.5.7.48.1.1';
const OID_OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Signature algorithms by OID: the digest node:crypto should use (RSA PKCS#1 v1.5, ECDSA, EdDSA). */
const SIGNATURE_DIGESTS: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
};

/** CertID hash algorithms by OID. */
const HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
};

/** OpenSSL's names for OCSP response statuses and certificate statuses / revocation reasons. */
const RESPONSE_STATUS = ['successful', 'malformedrequest', 'internalerror', 'trylater', '(UNKNOWN)', 'sigrequired', 'unauthorized'];
const CERT_STATUS = ['good', 'revoked', 'unknown'];
const CRL_REASONS = [
  'unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation',
  'certificateHold', '(UNKNOWN)', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise',
];

function oidText(value: Buffer): string {
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    n = n * 128 + (value[i]! & 0x7f);
    if (!(value[i]! & 0x80)) {
      if (parts.length === 0) parts.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80);
      else parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

/** GeneralizedTime (YYYYMMDDHHMMSS[.fff]Z) in ms. */
function generalizedTime(value: Buffer): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(value.toString('latin1'));
  if (!m) throw new DerError('bad time');
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/** An INTEGER's value as lower-case hex without leading zero bytes (X509Certificate.serialNumber's form). */
function integerHex(value: Buffer): string {
  let i = 0;
  while (i < value.length - 1 && value[i] === 0) i++;
  return value.subarray(i).toString('hex');
}

/** A certificate's subject Name (DER) and the bits of its public key, from its DER. */
function certificateParts(cert: X509Certificate): { subject: Buffer; issuer: Buffer; keyBits: Buffer } {
  const [tbs] = children(expect(readTlv(cert.raw, 0).tlv, SEQUENCE).value);
  const fields = children(expect(tbs, SEQUENCE).value);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0;
  i += 2; // serialNumber, signature
  const issuer = expect(fields[i++], SEQUENCE).der;
  i++; // validity
  const subject = expect(fields[i++], SEQUENCE).der;
  const spki = children(expect(fields[i], SEQUENCE).value);
  const bits = expect(spki[1], BIT_STRING).value;
  return { subject, issuer, keyBits: bits.subarray(1) };
}

interface SingleResponse {
  hash: string | undefined;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  serial: string;
  status: number;
  reason: number;
  thisUpdate: number;
  nextUpdate: number | undefined;
}

interface BasicResponse {
  tbs: Buffer;
  responderName: Buffer | undefined;
  responderKeyHash: Buffer | undefined;
  responses: SingleResponse[];
  digest: string | null | undefined;
  signature: Buffer;
  certs: X509Certificate[];
}

function parseSingle(t: Tlv): SingleResponse {
  const [certId, status, thisUpdate, ...rest] = children(expect(t, SEQUENCE).value);
  const [alg, nameHash, keyHash, serial] = children(expect(certId, SEQUENCE).value);
  const hashOid = oidText(expect(children(expect(alg, SEQUENCE).value)[0], OID).value);
  if (status === undefined) throw new DerError('no status');
  const kind = status.tag & 0x1f;
  let reason = -1;
  if (kind === 1) {
    // RevokedInfo: revocationTime, [0] EXPLICIT CRLReason ENUMERATED OPTIONAL.
    const info = children(status.value);
    const r = info[1];
    if (r !== undefined && r.tag === 0xa0) reason = expect(children(r.value)[0], ENUMERATED).value[0] ?? -1;
  }
  let nextUpdate: number | undefined;
  for (const e of rest) {
    if (e.tag === 0xa0) nextUpdate = generalizedTime(expect(children(e.value)[0], GENERALIZED_TIME).value);
  }
  return {
    hash: HASHES[hashOid],
    issuerNameHash: expect(nameHash, OCTET_STRING).value,
    issuerKeyHash: expect(keyHash, OCTET_STRING).value,
    serial: integerHex(expect(serial, INTEGER).value),
    status: kind,
    reason,
    thisUpdate: generalizedTime(expect(thisUpdate, GENERALIZED_TIME).value),
    nextUpdate,
  };
}

/** The response status, and the BasicOCSPResponse when it is successful. */
function parseResponse(der: Buffer): { status: number; basic: BasicResponse | undefined } {
  const { tlv: top, next } = readTlv(der, 0);
  if (next !== der.length) throw new DerError('trailing bytes');
  const [statusTlv, bytes] = children(expect(top, SEQUENCE).value);
  const status = expect(statusTlv, ENUMERATED).value[0] ?? -1;
  if (bytes === undefined) return { status, basic: undefined };
  const [type, octets] = children(expect(children(expect(bytes, 0xa0).value)[0], SEQUENCE).value);
  if (oidText(expect(type, OID).value) !== OID_BASIC_RESPONSE) throw new DerError('not a basic response');
  const basicTlv = readTlv(expect(octets, OCTET_STRING).value, 0).tlv;
  const [tbs, sigAlg, sig, certsTlv] = children(expect(basicTlv, SEQUENCE).value);
  const data = children(expect(tbs, SEQUENCE).value);
  let i = data[0]?.tag === 0xa0 ? 1 : 0;
  const responder = data[i++];
  let responderName: Buffer | undefined;
  let responderKeyHash: Buffer | undefined;
  if (responder?.tag === 0xa1) responderName = expect(children(responder.value)[0], SEQUENCE).der;
  else if (responder?.tag === 0xa2) responderKeyHash = expect(children(responder.value)[0], OCTET_STRING).value;
  else throw new DerError('bad responder id');
  i++; // producedAt
  const responses = children(expect(data[i], SEQUENCE).value).map(parseSingle);
  const sigOid = oidText(expect(children(expect(sigAlg, SEQUENCE).value)[0], OID).value);
  const bits = expect(sig, BIT_STRING).value;
  const certs: X509Certificate[] = [];
  if (certsTlv !== undefined && certsTlv.tag === 0xa0) {
    for (const c of children(expect(children(certsTlv.value)[0], SEQUENCE).value)) certs.push(new X509Certificate(c.der));
  }
  return {
    status,
    basic: {
      tbs: tbs!.der,
      responderName,
      responderKeyHash,
      responses,
      digest: Object.hasOwn(SIGNATURE_DIGESTS, sigOid) ? SIGNATURE_DIGESTS[sigOid] : undefined,
      signature: bits.subarray(1),
      certs,
    },
  };
}

/**
 * OCSP_basic_verify, for the cases a stapled response has: finds the signer among the
 * response's certificates and those the remote sent (not the trust store), checks the signature
 * and that the signer may sign. Returns OpenSSL's error, or undefined when it passes.
 */
function verifyBasic(basic: BasicResponse, peer: X509Certificate, issuer: X509Certificate | undefined, chain: X509Certificate[]): string[] | undefined {
  // The remote sent its certificate and any intermediates; a self-signed root comes from our CA file.
  const sent = [peer, ...chain.filter((c) => !c.checkIssued(c))];
  const candidates = [...basic.certs, ...sent];
  const signer = candidates.find((c) => {
    const parts = certificateParts(c);
    if (basic.responderName) return parts.subject.equals(basic.responderName);
    return createHash('sha1').update(parts.keyBits).digest().equals(basic.responderKeyHash!);
  });
  if (signer === undefined) return [SIGNER_NOT_FOUND];
  if (basic.digest === undefined) return [SIGNATURE_FAILURE];
  let good: boolean;
  try {
    good = verifySignature(basic.digest, basic.tbs, signer.publicKey, basic.signature);
  } catch {
    good = false;
  }
  // OpenSSL 3 reports a bad RSA signature through the whole stack that saw it.
  if (!good) return signer.publicKey.asymmetricKeyType === 'rsa' ? [...RSA_BAD_SIGNATURE, SIGNATURE_FAILURE] : [SIGNATURE_FAILURE];
  // The issuer of the remote's certificate signs itself, or delegates to a certificate it
  // issued for OCSP signing (RFC 6960 4.2.2.2).
  if (issuer === undefined) return [CERTIFICATE_VERIFY_ERROR];
  if (signer.raw.equals(issuer.raw)) return undefined;
  const delegated = signer.checkIssued(issuer) && signer.verify(issuer.publicKey) && (signer.keyUsage ?? []).includes(OID_OCSP_SIGNING);
  return delegated && peer.checkIssued(issuer) ? undefined : [CERTIFICATE_VERIFY_ERROR];
}

const LEEWAY_MS = 300_000;

/**
 * Checks the stapled OCSP response of a remote whose certificate is `peer`, issued by `issuer`
 * (the chain the TLS handshake verified). `chain` is what the remote sent.
 */
export function checkStapledOcsp(
  response: Buffer | null | undefined,
  peer: X509Certificate,
  issuer: X509Certificate | undefined,
  chain: X509Certificate[],
  now = Date.now(),
): OcspVerdict {
  const lines: string[] = [];
  const fail = (line?: string, errors: string[] = []): OcspVerdict => {
    if (line) lines.push(line);
    return { ok: false, lines, errors };
  };
  lines.push(`OCSP: SSL_get_tlsext_status_ocsp_resp returned ${response?.length ?? -1} bytes`);
  if (response === undefined || response === null || response.length === 0) return fail('OCSP: no response');
  let parsed: ReturnType<typeof parseResponse>;
  try {
    parsed = parseResponse(response);
  } catch {
    return fail('OCSP: invalid response');
  }
  if (parsed.status !== 0) return fail(`OCSP: invalid status: ${RESPONSE_STATUS[parsed.status] ?? '(UNKNOWN)'} (${parsed.status})`);
  const basic = parsed.basic;
  if (basic === undefined) return fail('OCSP: invalid response');
  let errors: string[] | undefined;
  try {
    errors = verifyBasic(basic, peer, issuer, chain);
  } catch {
    errors = [SIGNER_NOT_FOUND];
  }
  if (errors !== undefined) return fail('OCSP: response verification failed (error: 0)', errors);
  for (const single of basic.responses) {
    lines.push(`OCSP: SSL certificate status: ${CERT_STATUS[single.status] ?? '(UNKNOWN)'} (${single.status})`);
    if (single.status === 1) {
      return fail(`OCSP: SSL certificate revocation reason: ${CRL_REASONS[single.reason] ?? '(UNKNOWN)'} (${single.reason})`);
    }
    if (single.status !== 0) return fail();
    // OCSP_check_validity(thisupd, nextupd, 300, -1): not from the future, not long expired.
    const expired = single.thisUpdate > now + LEEWAY_MS || (single.nextUpdate !== undefined && (single.nextUpdate < now - LEEWAY_MS || single.nextUpdate < single.thisUpdate));
    if (expired) return fail('OCSP: OCSP response has expired');
  }
  // The response must speak about the remote's certificate.
  const issuerParts = issuer ? certificateParts(issuer) : undefined;
  const serial = peer.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
  const aboutPeer = basic.responses.some((s) => {
    if (s.hash === undefined || issuerParts === undefined || s.serial !== serial) return false;
    return (
      createHash(s.hash).update(issuerParts.subject).digest().equals(s.issuerNameHash) &&
      createHash(s.hash).update(issuerParts.keyBits).digest().equals(s.issuerKeyHash)
    );
  });
  if (!aboutPeer) return fail('OCSP: no status for the remote certificate');
  return { ok: true, lines, errors: [] };
}
