/**
 * One client connection: the socket, its decoder, write coalescing and backpressure, the
 * keepalive deadline, and dispatch of each decoded packet to its handler. Protocol decisions live
 * in the handle-*.ts modules; this file only moves bytes and tracks the connection's state.
 */
import type { Duplex } from 'node:stream';
import {
  Decoder,
  ErrorCode,
  encodePacket,
  isMqttProtocolError,
  PacketType,
  ReasonCode,
  type Packet,
  type ProtocolVersion,
} from '@skeeter/codec';
import type { Broker } from '../broker.js';
import type { ListenerSettings } from '../settings.js';
import type { CertificateUsername, Peer } from '../transport/listeners.js';
import type { Session } from '../session/session.js';
import { closeLogLine, closeReasonForDecodeError, type CloseReason } from './close-reason.js';
import { handleConnect } from './handle-connect.js';
import { handlePublish } from './handle-publish.js';
import { handlePuback, handlePubcomp, handlePubrec, handlePubrel } from './handle-pub-ack.js';
import { handleSubscribe } from './handle-subscribe.js';
import { handleUnsubscribe } from './handle-unsubscribe.js';
import { handleDisconnect } from './handle-disconnect.js';
import { handleAuth, isAuthenticating, usesExtendedAuth } from './handle-auth.js';

/** A client that sends no CONNECT within this time is dropped, so idle sockets cannot pile up. */
const CONNECT_TIMEOUT_MS = 20_000;

export class Connection {
  readonly broker: Broker;
  readonly socket: Duplex;
  readonly listener: ListenerSettings;
  readonly decoder: Decoder;
  readonly address: string;
  readonly remotePort: number;
  /** A bridge's in-memory local side: its connects and disconnects are not logged. */
  readonly internal: boolean;
  /** With use_identity_as_username / use_subject_as_username: what the TLS layer derived. */
  readonly certificateUsername: CertificateUsername | undefined;
  state: 'new' | 'connected' | 'closed' = 'new';
  session: Session | undefined;
  /** As logs name the client: its id once known. */
  clientId = '<unknown>';
  protocolVersion: ProtocolVersion = 4;
  username: string | undefined;
  clean = true;
  keepalive = 0;
  lastReceived = Date.now();
  /** Client-to-broker topic aliases (MQTT 5). */
  topicAliases: Map<number, string> | undefined;
  /** Broker-to-client topic aliases (MQTT 5, as Mosquitto 2.1 creates them): topic -> alias. */
  outgoingAliases: Map<string, number> | undefined;
  /** How many outgoing aliases this client accepts (its Topic Alias Maximum, capped). */
  outgoingAliasMax = 0;
  /** A bridge (CONNECT's protocol level had the 0x80 bit, Mosquitto's try_private): it never gets
   * its own messages back, so two brokers bridged both ways do not loop. */
  isBridge = false;
  /** Set when the will must not be published (normal DISCONNECT). */
  willSuppressed = false;
  /** Packets written this tick, sent together by flush() (one socket write per connection and tick). */
  private out: Buffer[] | null = null;
  private outBytes = 0;
  private paused = false;

  constructor(broker: Broker, peer: Peer, listener: ListenerSettings) {
    const socket = peer.stream;
    this.broker = broker;
    this.socket = socket;
    this.listener = listener;
    this.address = peer.address;
    this.remotePort = peer.port;
    this.internal = peer.internal === true;
    this.certificateUsername = peer.certificateUsername;
    this.decoder = new Decoder({
      role: 'server',
      maxPacketSize: broker.settings.maxPacketSize > 0 ? broker.settings.maxPacketSize : undefined,
      // Mosquitto refuses control characters in every string (mosquitto_validate_utf8).
      rejectControlCharacters: true,
      // Mosquitto's broker refuses topics and filters of more than 200 levels separators
      // (TOPIC_HIERARCHY_LIMIT): a malformed packet.
      maxTopicSlashes: 200,
    });
    // Shared handler functions find their connection on the socket: no closures per connection.
    (socket as OwnedStream)[CONNECTION] = this;
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
  }

  /** Called by the broker's idle sweep (twice a second): CONNECT timeout and keepalive. */
  checkIdle(now: number): void {
    if (this.state === 'closed') return;
    const idle = now - this.lastReceived;
    if (this.state === 'new') {
      if (idle >= CONNECT_TIMEOUT_MS) this.close({ kind: 'keepalive' });
      return;
    }
    // 1.5 times the keepalive without a packet ends the connection [MQTT-3.1.2-24].
    if (this.keepalive > 0 && idle >= this.keepalive * 1500) this.close({ kind: 'keepalive', reasonCode: 0x8d });
  }

  /** @internal */
  onDrain(): void {
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    this.lastReceived = Date.now();
    this.broker.stats.bytesReceived += chunk.length;
    // The first byte must start a CONNECT [MQTT-3.1.0-1]: close at once rather than wait for the
    // rest of whatever the peer announced, as Mosquitto does.
    // (An AUTH may follow a CONNECT that is still authenticating.)
    if (
      this.state === 'new' &&
      this.decoder.bufferedBytes === 0 &&
      chunk.length > 0 &&
      chunk[0]! >> 4 !== PacketType.Connect &&
      !(chunk[0]! >> 4 === PacketType.Auth && isAuthenticating(this))
    ) {
      this.close({ kind: 'protocol' });
      return;
    }
    try {
      this.decoder.push(chunk, this.onPacket);
    } catch (e) {
      if (!isMqttProtocolError(e)) throw e;
      if (this.isClosed()) return;
      this.broker.log.debug(`Client ${this.clientId} sent a bad packet: ${e.message}`);
      if (e.code === ErrorCode.UnsupportedProtocolVersion && this.state === 'new') {
        // Mosquitto answers an unknown protocol level with a 3.x CONNACK "unacceptable protocol
        // version" before closing (reference 9.1 step 1).
        this.broker.log.info(`Invalid protocol version ${e.protocolVersion ?? 0} in CONNECT from ${this.address}.`);
        this.send(CONNACK_BAD_VERSION);
        this.close({ kind: 'protocol' });
        return;
      }
      if (e.code === ErrorCode.InvalidQoS && this.state === 'connected' && e.packetType === PacketType.Publish) {
        this.broker.log.info(`Invalid QoS in PUBLISH from ${this.clientId}, disconnecting.`);
      }
      // An AUTH on a connection without extended authentication is refused as such, however
      // malformed it is: Mosquitto looks at the connection before at the packet.
      if (e.packetType === PacketType.Auth && this.state === 'connected' && !usesExtendedAuth(this)) {
        this.close({ kind: 'protocol', reasonCode: ReasonCode.ProtocolError });
        return;
      }
      // A client's DISCONNECT is taken at its word whatever its reason code: the client is
      // leaving either way, and Mosquitto 2.0.20 closes normally (will discarded) rather than
      // answer it with a protocol error.
      if (e.code === ErrorCode.InvalidReasonCode && e.packetType === PacketType.Disconnect && this.state === 'connected') {
        this.debug(`Received DISCONNECT from ${this.clientId}`);
        this.willSuppressed = true;
        this.close({ kind: 'disconnect' });
        return;
      }
      this.close(closeReasonForDecodeError(e));
    }
  }

  /** Packets that arrived while authentication was pending, handled in order once it ends. */
  private held: Packet[] | undefined;

  holdPackets(): void {
    this.held = [];
    // Bytes stay in the kernel meanwhile: a client cannot make us buffer while it waits.
    this.socket.pause();
  }

  releasePackets(): void {
    const held = this.held;
    this.held = undefined;
    if (held) for (const p of held) this.onPacket(p);
    if (!this.paused && !this.isClosed()) this.socket.resume();
  }

  private readonly onPacket = (packet: Packet): void => {
    if (this.state === 'closed') return;
    if (this.held) {
      this.held.push(packet);
      return;
    }
    this.broker.stats.messagesReceived++;
    if (this.state === 'new') {
      // Extended authentication exchanges AUTH packets before CONNACK (handle-auth.ts).
      if (packet.type === PacketType.Auth) {
        handleAuth(this, packet);
        return;
      }
      // The first packet must be CONNECT [MQTT-3.1.0-1].
      if (packet.type !== PacketType.Connect) {
        this.close({ kind: 'protocol' });
        return;
      }
      handleConnect(this, packet);
      return;
    }
    switch (packet.type) {
      case PacketType.Publish:
        handlePublish(this, packet);
        break;
      case PacketType.Puback:
        handlePuback(this, packet);
        break;
      case PacketType.Pubrec:
        handlePubrec(this, packet);
        break;
      case PacketType.Pubrel:
        handlePubrel(this, packet);
        break;
      case PacketType.Pubcomp:
        handlePubcomp(this, packet);
        break;
      case PacketType.Subscribe:
        handleSubscribe(this, packet);
        break;
      case PacketType.Unsubscribe:
        handleUnsubscribe(this, packet);
        break;
      case PacketType.Pingreq:
        this.debug(`Received PINGREQ from ${this.clientId}`);
        this.debug(`Sending PINGRESP to ${this.clientId}`);
        this.send(PINGRESP);
        break;
      case PacketType.Disconnect:
        handleDisconnect(this, packet);
        break;
      case PacketType.Connect:
        // A second CONNECT is a Protocol Error [MQTT-3.1.0-2]; Mosquitto closes without DISCONNECT.
        this.broker.log.info(`Bad client ${this.clientId} sending multiple CONNECT messages.`);
        this.close({ kind: 'protocol' });
        break;
      case PacketType.Auth:
        handleAuth(this, packet);
        break;
      default:
        this.close({ kind: 'protocol', reasonCode: 0x82 });
    }
  };

  /** A method, not a field read, so TypeScript does not narrow it away after calls. */
  isClosed(): boolean {
    return this.state === 'closed';
  }

  debug(line: string): void {
    if (this.broker.log.debugEnabled) this.broker.log.debug(line);
  }

  /** Output held back until the journal has this client's new session (persist/journal.ts). */
  private heldOutput: Buffer[] | undefined;

  /** Holds everything sent from now on (CONNACK first) until releaseOutput. */
  holdOutput(): void {
    this.heldOutput ??= [];
  }

  releaseOutput(): void {
    const held = this.heldOutput;
    this.heldOutput = undefined;
    if (held) for (const b of held) this.send(b);
  }

  /** Queues bytes for the socket; everything sent in one tick leaves in one write (flush). */
  send(buf: Buffer): void {
    if (this.state === 'closed') return;
    if (this.heldOutput !== undefined) {
      this.heldOutput.push(buf);
      return;
    }
    this.broker.stats.bytesSent += buf.length;
    this.broker.stats.messagesSent++;
    if (this.out === null) {
      this.out = [buf];
      this.broker.scheduleFlush(this);
    } else {
      this.out.push(buf);
    }
    this.outBytes += buf.length;
  }

  /**
   * Writes what this tick produced: one buffer as it is, small batches joined into one write,
   * large ones corked. A full socket pauses reading from this client until it drains.
   */
  flush(): void {
    const out = this.out;
    if (out === null) return;
    this.out = null;
    const total = this.outBytes;
    this.outBytes = 0;
    const socket = this.socket;
    if (socket.destroyed) return;
    let ok: boolean;
    if (out.length === 1) {
      ok = socket.write(out[0]!);
    } else if (total <= 65_536) {
      ok = socket.write(Buffer.concat(out, total));
    } else {
      socket.cork();
      ok = true;
      for (const b of out) ok = socket.write(b);
      socket.uncork();
    }
    if (!ok && !this.paused && this.state !== 'closed') {
      this.paused = true;
      socket.pause();
    }
  }

  sendPacket(packet: Packet): void {
    this.send(encodePacket(packet, this.protocolVersion));
  }

  /** Called once CONNECT is accepted; the broker's idle sweep enforces it. */
  startKeepalive(seconds: number): void {
    this.keepalive = seconds;
  }

  /**
   * Ends the connection once: logs Mosquitto's line for the reason, sends an MQTT 5 DISCONNECT
   * when the reason has a code and the client is connected on v5, then lets the broker settle
   * the session and the will.
   */
  close(reason: CloseReason): void {
    if (this.state === 'closed') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closed';
    const log = this.broker.log;
    if (!this.internal && (reason.kind === 'keepalive' || this.broker.settings.log.connectionMessages)) {
      const line = closeLogLine(reason.kind, this.clientId);
      if (line) log.notice(line);
    }
    const socket = this.socket;
    if (wasConnected && this.protocolVersion === 5 && reason.reasonCode !== undefined && !socket.destroyed) {
      log.debug(`Sending DISCONNECT to ${this.clientId} (rc${reason.reasonCode})`);
      const bytes = encodePacket({ type: PacketType.Disconnect, reasonCode: reason.reasonCode, properties: {} }, 5);
      this.flush();
      socket.end(bytes);
      setTimeout(() => socket.destroy(), 1000).unref();
    } else {
      this.flush();
      if (reason.kind === 'socket') socket.destroy();
      else {
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      }
    }
    this.broker.connectionClosed(this, reason, wasConnected);
    // The plugins' disconnect event (MOSQ_EVT_DISCONNECT), for clients that were accepted.
    if (wasConnected) this.broker.security.disconnected?.(this, reason.kind);
  }

  /** Sends bytes and then closes without a DISCONNECT (e.g. a refusing CONNACK). */
  sendAndClose(buf: Buffer, reason: CloseReason): void {
    if (this.state === 'closed') return;
    this.send(buf);
    this.close({ kind: reason.kind });
  }
}

const CONNECTION = Symbol('connection');
type OwnedStream = Duplex & { [CONNECTION]?: Connection };

function onSocketData(this: OwnedStream, chunk: Buffer): void {
  this[CONNECTION]!.onData(chunk);
}
function onSocketError(): void {
  // Resets and the like: the 'close' event that follows ends the connection.
}
function onSocketClose(this: OwnedStream): void {
  this[CONNECTION]!.close({ kind: 'socket' });
}
function onSocketDrain(this: OwnedStream): void {
  this[CONNECTION]!.onDrain();
}


const PINGRESP = Buffer.from([0xd0, 0x00]);
const CONNACK_BAD_VERSION = Buffer.from([0x20, 0x02, 0x00, 0x01]);
