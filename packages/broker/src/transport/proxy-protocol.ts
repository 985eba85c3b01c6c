/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2), as Mosquitto 2.1 reads it
 * with `enable_proxy_protocol 1|2`: every connection on the listener starts with a header from
 * the load balancer naming the real client, which then stands for the client in the log, in
 * ACL patterns and for plugins. Version 2 may also carry what the proxy learned from terminating
 * TLS (the SSL TLV: whether TLS was used, whether a verified certificate was given, its CN).
 *
 * Headers are bounded: a v1 line has at most 108 bytes (107 plus Mosquitto's own terminator
 * slot), a v2 address block at most 500 bytes (Mosquitto's PROXY_PACKET_LIMIT). Anything
 * malformed closes the connection.
 */
import { isIPv4, isIPv6, type Socket } from 'node:net';
import type { ListenerSettings, ProxyProtocolSettings } from '../settings.js';
import type { CertificateUsername, TransportContext } from './listeners.js';

/** The longest v1 header line accepted, CRLF included. */
export const PROXY_V1_LIMIT = 108;
/** The largest v2 address + TLV block accepted. */
export const PROXY_V2_LIMIT = 500;

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ');

const CMD_LOCAL = 0x0;
const CMD_PROXY = 0x1;
const FAM_UNSPEC = 0x00;
const FAM_TCP4 = 0x11;
const FAM_TCP6 = 0x21;
const FAM_UNIX = 0x31;

const PP2_TYPE_SSL = 0x20;
const PP2_SUBTYPE_SSL_VERSION = 0x21;
const PP2_SUBTYPE_SSL_CN = 0x22;
const PP2_SUBTYPE_SSL_CIPHER = 0x23;
const PP2_CLIENT_SSL = 0x01;
const PP2_CLIENT_CERT_CONN = 0x02;
const PP2_CLIENT_CERT_SESS = 0x04;

/** What a complete header says. `address` undefined = use the socket's own address (v1 UNKNOWN). */
export interface ProxyHeader {
  address: string | undefined;
  port: number;
  /** v2 SSL TLV present: the client reached the proxy over TLS. */
  tls: boolean;
  /** The proxy verified a client certificate. */
  certificate: boolean;
  commonName?: string | undefined;
  tlsVersion?: string | undefined;
  cipher?: string | undefined;
}

export type ProxyParse =
  | { kind: 'more' }
  | { kind: 'header'; header: ProxyHeader; length: number }
  /** v2 LOCAL command (the proxy's own health check): Mosquitto closes it without a word. */
  | { kind: 'local' }
  /** `address` set when the header got far enough to name the client (v2 TLV errors). */
  | { kind: 'corrupt'; address?: string | undefined; port?: number | undefined };

/** Parses a v1 header at the start of `buf`. */
export function parseProxyV1(buf: Buffer): ProxyParse {
  // Fail as soon as the bytes cannot be a PROXY line, rather than waiting for 108 of them.
  const n = Math.min(buf.length, V1_PREFIX.length);
  if (!buf.subarray(0, n).equals(V1_PREFIX.subarray(0, n))) return { kind: 'corrupt' };
  let end = -1;
  for (let i = 1; i < Math.min(buf.length, PROXY_V1_LIMIT); i++) {
    if (buf[i] === 0x0a && buf[i - 1] === 0x0d) {
      end = i + 1;
      break;
    }
  }
  if (end < 0) return buf.length >= PROXY_V1_LIMIT ? { kind: 'corrupt' } : { kind: 'more' };
  const line = buf.toString('latin1', 0, end - 2);
  const none = { tls: false, certificate: false };
  // "PROXY UNKNOWN" (with or without the rest): the proxy cannot tell, keep the socket's address.
  if (line === 'PROXY UNKNOWN' || line.startsWith('PROXY UNKNOWN ')) return { kind: 'header', header: { address: undefined, port: 0, ...none }, length: end };
  let family: 4 | 6;
  if (line.startsWith('PROXY TCP4 ')) family = 4;
  else if (line.startsWith('PROXY TCP6 ')) family = 6;
  else return { kind: 'corrupt' };
  // Fields are separated by single or repeated spaces (Mosquitto splits with strtok).
  const fields = line.slice(11).split(' ').filter((f) => f.length > 0);
  if (fields.length !== 4) return { kind: 'corrupt' };
  const [src, dst, sport, dport] = fields as [string, string, string, string];
  const port = (s: string): number => (/^[0-9]{1,5}$/.test(s) ? Number(s) : 0);
  const sp = port(sport);
  const dp = port(dport);
  if (sp < 1 || sp > 65535 || dp < 1 || dp > 65535) return { kind: 'corrupt' };
  const valid = family === 4 ? isIPv4 : isIPv6;
  if (!valid(src) || !valid(dst)) return { kind: 'corrupt' };
  return { kind: 'header', header: { address: src, port: sp, ...none }, length: end };
}

/** Parses a v2 header at the start of `buf`. */
export function parseProxyV2(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  if (!buf.subarray(0, n).equals(V2_SIGNATURE.subarray(0, n))) return { kind: 'corrupt' };
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12]!;
  const fam = buf[13]!;
  const len = buf.readUInt16BE(14);
  if ((verCmd & 0xf0) !== 0x20) return { kind: 'corrupt' };
  const cmd = verCmd & 0x0f;
  if (cmd !== CMD_LOCAL && cmd !== CMD_PROXY) return { kind: 'corrupt' };
  if (!((fam === FAM_UNSPEC && cmd === CMD_LOCAL) || fam === FAM_TCP4 || fam === FAM_TCP6 || fam === FAM_UNIX)) {
    return { kind: 'corrupt' };
  }
  if (len > PROXY_V2_LIMIT) return { kind: 'corrupt' };
  if (len === 0 && (cmd !== CMD_LOCAL || fam !== FAM_UNSPEC)) return { kind: 'corrupt' };
  if (fam === FAM_TCP4 && len < 12) return { kind: 'corrupt' };
  if (fam === FAM_TCP6 && len < 36) return { kind: 'corrupt' };
  if (buf.length < 16 + len) return { kind: 'more' };
  const block = buf.subarray(16, 16 + len);
  let address: string;
  let port: number;
  let pos: number;
  if (fam === FAM_TCP4) {
    address = `${block[0]}.${block[1]}.${block[2]}.${block[3]}`;
    port = block.readUInt16BE(8);
    pos = 12;
  } else if (fam === FAM_TCP6) {
    address = ipv6Text(block.subarray(0, 16));
    port = block.readUInt16BE(32);
    pos = 36;
  } else if (fam === FAM_UNIX) {
    // Two 108-byte paths; the source one, up to its NUL, names the client (no port). TLVs
    // follow the whole 216-byte block, as the specification lays it out.
    if (len < 216) return { kind: 'corrupt' };
    const src = block.subarray(0, 108);
    const nul = src.indexOf(0);
    address = src.toString('utf8', 0, nul < 0 ? src.length : nul);
    port = 0;
    pos = 216;
  } else {
    // LOCAL: a connection the proxy makes for itself; Mosquitto ends it.
    return { kind: 'local' };
  }
  const header: ProxyHeader = { address, port, tls: false, certificate: false };
  if (!readTlvs(block, pos, header)) return { kind: 'corrupt', address, port };
  return { kind: 'header', header, length: 16 + len };
}

/** The TLVs after the addresses; only the SSL one matters. False when one overruns the block. */
function readTlvs(block: Buffer, start: number, header: ProxyHeader): boolean {
  let pos = start;
  while (pos < block.length) {
    if (block.length - pos < 3) return false;
    const type = block[pos]!;
    const len = block.readUInt16BE(pos + 1);
    pos += 3;
    if (len > block.length - pos) return false;
    if (type === PP2_TYPE_SSL && !readSslTlv(block.subarray(pos, pos + len), header)) return false;
    pos += len;
  }
  return true;
}

/** PP2_TYPE_SSL: client flags, verify result, then sub-TLVs (version, CN, cipher...). */
function readSslTlv(ssl: Buffer, header: ProxyHeader): boolean {
  if (ssl.length < 5) return false;
  const client = ssl[0]!;
  const verify = ssl.readUInt32BE(1);
  // A certificate counts when the client used TLS, sent one, and the proxy verified it (0 = ok).
  if (client & PP2_CLIENT_SSL && client & (PP2_CLIENT_CERT_SESS | PP2_CLIENT_CERT_CONN) && verify === 0) header.certificate = true;
  let pos = 5;
  while (pos < ssl.length) {
    if (ssl.length - pos < 3) return false;
    const type = ssl[pos]!;
    const len = ssl.readUInt16BE(pos + 1);
    pos += 3;
    if (len > ssl.length - pos) return false;
    const value = ssl.toString('utf8', pos, pos + len);
    if (type === PP2_SUBTYPE_SSL_VERSION) header.tlsVersion = value;
    else if (type === PP2_SUBTYPE_SSL_CN) header.commonName = value;
    else if (type === PP2_SUBTYPE_SSL_CIPHER) header.cipher = value;
    pos += len;
  }
  header.tls = true;
  return true;
}

/** RFC 5952 text of a 16-byte IPv6 address (what inet_ntop prints). */
function ipv6Text(b: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i));
  // IPv4-mapped addresses keep their dotted tail, as inet_ntop writes them.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** What the listener learns from a connection's header. */
export interface ProxiedPeer {
  address: string;
  port: number;
  certificateUsername?: CertificateUsername | undefined;
}

/**
 * The configuration errors Mosquitto 2.1 gives for PROXY listeners: TLS is the proxy's job, and
 * a subject string cannot travel in the header. Returns the error line, or undefined.
 */
export function proxyListenerError(p: ProxyProtocolSettings): string | undefined {
  if (p.useSubjectAsUsername) return `Error: use_subject_as_username cannot be used with \`enable_proxy_protocol ${p.version}\`.`;
  if (p.ownTls) return `Error: certfile and keyfile cannot be used with \`enable_proxy_protocol ${p.version}\`.`;
  return undefined;
}

/**
 * Reads the PROXY header off a fresh socket, then hands the socket on with any bytes after the
 * header put back, and the client the header names. Malformed headers and refused clients are
 * logged as Mosquitto logs them and the socket is destroyed.
 */
export function readProxyHeader(
  socket: Socket,
  listener: ListenerSettings,
  ctx: TransportContext,
  socketAddress: string,
  onPeer: (peer: ProxiedPeer) => void,
): void {
  const p = listener.proxyProtocol!;
  let buf: Buffer = Buffer.alloc(0);
  const fail = (line: string | undefined): void => {
    socket.off('data', onData);
    if (line !== undefined) ctx.log.notice(line);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const r = p.version === 1 ? parseProxyV1(buf) : parseProxyV2(buf);
    if (r.kind === 'more') return;
    if (r.kind === 'local') return fail(undefined);
    if (r.kind === 'corrupt') {
      return fail(
        r.address !== undefined
          ? `Connection from ${r.address}:${r.port} rejected, corrupt PROXY header.`
          : 'Connection rejected, corrupt PROXY header.',
      );
    }
    const h = r.header;
    const address = h.address ?? socketAddress;
    const port = h.address === undefined ? (socket.remotePort ?? 0) : h.port;
    if (p.version === 2 && p.requireTls && !h.tls) {
      return fail(`Connection from ${address}:${port} rejected, client did not connect using TLS.`);
    }
    if (p.requireCertificate && !h.certificate) {
      return fail(`Connection from ${address}:${port} rejected, client did not provide a certificate.`);
    }
    if (h.tlsVersion !== undefined && h.cipher !== undefined) {
      ctx.log.notice(`Connection from ${address}:${port} negotiated ${h.tlsVersion} cipher ${h.cipher}`);
    }
    socket.off('data', onData);
    socket.pause();
    const rest = buf.subarray(r.length);
    if (rest.length > 0) socket.unshift(rest);
    const peer: ProxiedPeer = { address, port };
    // The certificate's CN is the username only with both options, as in Mosquitto 2.1; the
    // CONNECT's username and password are then ignored.
    if (p.useIdentityAsUsername && p.requireCertificate) {
      peer.certificateUsername = h.commonName !== undefined ? { username: h.commonName } : { refused: 'no-certificate' };
    }
    onPeer(peer);
  };
  // Errors before the header is complete just end the connection (nothing was accepted yet).
  socket.on('error', () => socket.destroy());
  socket.on('data', onData);
}
