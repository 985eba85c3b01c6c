/**
 * MosquittoClient: the counterpart of libmosquitto for Node programs, on top of MQTT.js.
 *
 * MQTT.js does the protocol work (CONNECT/CONNACK, QoS 1/2 flows, keepalive). This class adds
 * what the Mosquitto tools need and MQTT.js does not do the same way:
 * - one message-id counter shared by PUBLISH (QoS 0 included), SUBSCRIBE and UNSUBSCRIBE,
 *   starting at 1, as libmosquitto's `mosquitto__mid_generate`;
 * - libmosquitto's debug log lines, built from the packets actually written and read;
 * - the empty client id of libmosquitto 2.0 (the server assigns one), and the random
 *   `mosq-...` id for MQTT 3.1, which does not allow an empty one;
 * - callbacks with libmosquitto's arguments (CONNACK code, reason codes, mids).
 */
import type { Duplex } from 'node:stream';
import { openTransport, type TransportOptions } from './transport.js';
import { WIRE_BYTE_VALUES, type MqttJsProperties, type WireByteValues } from './properties.js';
import { OutgoingWire } from './wire.js';
import { MosqErr } from './strings.js';
import { acceptEveryTopicAlias, loadMqttClient, type MqttClientLike, type MqttPacket } from './mqttjs.js';

export type QoS = 0 | 1 | 2;
export type ProtocolVersion = 3 | 4 | 5;

export interface Will {
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MqttJsProperties | undefined;
}

export interface ConnectOptions extends TransportOptions {
  /** 3 = MQTT 3.1, 4 = MQTT 3.1.1, 5 = MQTT 5.0. */
  protocolVersion: ProtocolVersion;
  /** Empty or absent: let the server assign one (MQTT 3.1: a random `mosq-` id is made up). */
  clientId?: string | undefined;
  keepalive: number;
  cleanSession: boolean;
  username?: string | undefined;
  password?: string | undefined;
  will?: Will | undefined;
  /** CONNECT properties (MQTT 5 only). */
  properties?: MqttJsProperties | undefined;
}

export interface Message {
  /** 0 for QoS 0 messages. */
  mid: number;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: MqttJsProperties | undefined;
}

export interface SubscribeOptions {
  noLocal?: boolean;
  retainAsPublished?: boolean;
  /** 0 send, 1 send if new subscription, 2 never send retained messages. */
  retainHandling?: 0 | 1 | 2;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomMosqId(): string {
  let id = 'mosq-';
  for (let i = 0; i < 18; i++) id += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return id;
}

/** libmosquitto's message-id generator: one counter for every packet that carries a mid. */
class MidCounter {
  last = 0;
  next(): number {
    this.last = this.last >= 65535 ? 1 : this.last + 1;
    return this.last;
  }
  // The MQTT.js message-id provider interface.
  allocate(): number {
    return this.next();
  }
  getLastAllocated(): number {
    return this.last;
  }
  register(): boolean {
    return true;
  }
  deallocate(): void {}
  clear(): void {}
}

export class MosquittoClient {
  /** Called on CONNACK: rc is the CONNACK return code (3.x) or reason code (5). */
  onConnect: ((rc: number, sessionPresent: boolean, properties?: MqttJsProperties) => void) | undefined;
  /** Called when the connection ends: 0 after our DISCONNECT, else a libmosquitto error number. */
  onDisconnect: ((rc: number, properties?: MqttJsProperties) => void) | undefined;
  /** Called when a publish is complete (QoS 0: written; 1: PUBACK; 2: PUBCOMP or failing PUBREC). */
  onPublish: ((mid: number, reasonCode: number, properties?: MqttJsProperties) => void) | undefined;
  onMessage: ((message: Message) => void) | undefined;
  onSubscribe: ((mid: number, granted: number[], properties?: MqttJsProperties) => void) | undefined;
  onUnsubscribe: ((mid: number, properties?: MqttJsProperties) => void) | undefined;
  /** libmosquitto's log lines (what `-d` prints). */
  onLog: ((line: string) => void) | undefined;

  private mqtt: MqttClientLike | undefined;
  private readonly mids = new MidCounter();
  private readonly qos0Mids: number[] = [];
  private readonly ackCodes = new Map<number, { rc: number; properties?: MqttJsProperties }>();
  private id: string | undefined;
  private protocolVersion: ProtocolVersion = 4;
  private disconnecting = false;
  private closed = false;
  private serverDisconnect: number | undefined;
  private refused = false;
  private stream: Duplex | undefined;
  private readonly heldMessages = new Map<number, Message>();
  private lastError: number | undefined;

  /** The client id in use; undefined while the server has not assigned one. */
  get clientId(): string | undefined {
    return this.id;
  }

  /** The CONNACK properties' limits MQTT.js learnt (retain-available etc.). */
  get connected(): boolean {
    return this.mqtt?.connected ?? false;
  }

  private log(text: string): void {
    this.onLog?.(text);
  }

  private get logId(): string {
    return this.id === undefined || this.id === '' ? '(null)' : this.id;
  }

  /**
   * Opens the transport and sends CONNECT. Rejects with a TransportError when the socket
   * (or TLS handshake, or proxy) cannot be established; everything after that is reported
   * through the callbacks.
   */
  async connect(options: ConnectOptions): Promise<void> {
    // The connection is started first; MQTT.js is evaluated while it is being made (DNS,
    // TCP, TLS handshake), and a failed connection is still reported first.
    const opening = openTransport(options);
    const loading = loadMqttClient();
    loading.catch(() => undefined);
    const stream = await opening;
    const MqttClient = await loading;
    this.protocolVersion = options.protocolVersion;
    let clientId = options.clientId ?? '';
    if (clientId === '' && options.protocolVersion === 3) clientId = randomMosqId();
    this.id = clientId === '' ? undefined : clientId;

    const passwordOnly = options.protocolVersion === 5 && options.password !== undefined && options.username === undefined;
    const mqttOptions: Record<string, unknown> = {
      protocolVersion: options.protocolVersion,
      protocolId: options.protocolVersion === 3 ? 'MQIsdp' : 'MQTT',
      clientId,
      keepalive: options.keepalive,
      clean: options.cleanSession,
      reconnectPeriod: 0,
      connectTimeout: 0x7fffffff,
      resubscribe: false,
      messageIdProvider: this.mids,
      queueQoSZero: false,
      log: () => {},
      // mqtt-packet would otherwise build a 65536-entry number cache on the first write:
      // tens of milliseconds of a one-shot tool's life.
      writeCache: false,
      // Listeners must be in place before CONNECT is written, to log it.
      manualConnect: true,
      // MQTT 5 allows a password without a user name; mqtt-packet does not, so it gets an
      // empty one that the wire takes out again (wire.ts).
      ...(options.username !== undefined ? { username: options.username } : passwordOnly ? { username: '' } : {}),
      ...(options.password !== undefined ? { password: Buffer.from(options.password, 'utf8') } : {}),
      ...(options.will ? { will: { ...options.will } } : {}),
      ...(options.properties && options.protocolVersion === 5 ? { properties: options.properties } : {}),
    };
    this.stream = stream;
    // libmosquitto's byte forms of a few MQTT 5 packets (wire.ts).
    const wire = options.protocolVersion === 5 ? new OutgoingWire() : undefined;
    wire?.install(stream);
    if (wire && passwordOnly) wire.dropEmptyUsername = true;
    const client = new MqttClient((): Duplex => stream, mqttOptions);
    this.mqtt = client;
    client.on('packetsend', (packet: MqttPacket) => {
      if (wire && packet.cmd === 'publish') {
        wire.nextPublishBytes = (packet.properties as { [WIRE_BYTE_VALUES]?: WireByteValues } | undefined)?.[WIRE_BYTE_VALUES];
      }
      this.logSent(packet);
    });
    client.on('packetreceive', (packet: MqttPacket) => this.received(packet));
    client.on('connect', (packet: MqttPacket) => {
      if (this.protocolVersion === 5) acceptEveryTopicAlias(client);
      this.onConnect?.(0, Boolean(packet.sessionPresent), packet.properties);
    });
    client.on('message', (topic: string, payload: Buffer, packet: MqttPacket) => {
      const message: Message = {
        mid: packet.qos ? (packet.messageId ?? 0) : 0,
        topic,
        payload,
        qos: (packet.qos ?? 0) as QoS,
        retain: Boolean(packet.retain),
        properties: packet.properties,
      };
      // libmosquitto acknowledges (PUBACK, or PUBCOMP for QoS 2) before the message callback;
      // MQTT.js emits first. Hold QoS 1/2 messages until their ack is written.
      if (this.disconnecting) return;
      if (message.qos > 0) this.heldMessages.set(message.mid, message);
      else this.onMessage?.(message);
    });
    client.on('error', (err: Error & { code?: unknown }) => {
      // CONNACK refusals are reported through onConnect; MQTT.js also raises them as errors.
      if (typeof err.code === 'number') return;
      if (/keepalive/i.test(err.message)) this.lastError = MosqErr.KEEPALIVE;
      else if (this.lastError === undefined) this.lastError = MosqErr.CONN_LOST;
    });
    client.on('close', () => this.finish());
    client.connect();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    let rc: number;
    if (this.disconnecting) rc = MosqErr.SUCCESS;
    else if (this.serverDisconnect !== undefined) rc = this.serverDisconnect;
    else rc = this.lastError ?? MosqErr.CONN_LOST;
    this.onDisconnect?.(rc);
  }

  private logSent(packet: MqttPacket): void {
    const id = this.logId;
    switch (packet.cmd) {
      case 'connect':
        this.log(`Client ${id} sending CONNECT`);
        break;
      case 'publish': {
        const mid = packet.qos ? (packet.messageId ?? 0) : (this.qos0Mids.shift() ?? 0);
        const len = packet.payload ? Buffer.byteLength(packet.payload) : 0;
        // An alias-only publish has no topic: libmosquitto prints its NULL as glibc does.
        const topic = packet.topic ? packet.topic : '(null)';
        this.log(
          `Client ${id} sending PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${mid}, '${topic}', ... (${len} bytes))`,
        );
        break;
      }
      case 'puback':
        this.log(`Client ${id} sending PUBACK (m${packet.messageId}, rc${packet.reasonCode ?? 0})`);
        this.release(packet.messageId);
        break;
      case 'pubrec':
        this.log(`Client ${id} sending PUBREC (m${packet.messageId}, rc${packet.reasonCode ?? 0})`);
        break;
      case 'pubrel':
        this.log(`Client ${id} sending PUBREL (m${packet.messageId})`);
        break;
      case 'pubcomp':
        this.log(`Client ${id} sending PUBCOMP (m${packet.messageId})`);
        this.release(packet.messageId);
        break;
      case 'subscribe':
        for (const sub of packet.subscriptions ?? []) {
          const opts = (sub.nl ? 0x04 : 0) | (sub.rap ? 0x08 : 0) | ((sub.rh ?? 0) << 4);
          this.log(
            `Client ${id} sending SUBSCRIBE (Mid: ${packet.messageId}, Topic: ${sub.topic}, QoS: ${sub.qos}, Options: 0x${opts.toString(16).padStart(2, '0')})`,
          );
        }
        break;
      case 'unsubscribe':
        for (const topic of packet.unsubscriptions ?? []) {
          this.log(`Client ${id} sending UNSUBSCRIBE (Mid: ${packet.messageId}, Topic: ${topic})`);
        }
        break;
      case 'pingreq':
        this.log(`Client ${id} sending PINGREQ`);
        break;
      case 'disconnect': {
        this.log(`Client ${id} sending DISCONNECT`);
        // Like libmosquitto, close our side once DISCONNECT is flushed instead of waiting for
        // the server to close the connection [MQTT-3.14.4-1].
        const stream = this.stream;
        stream?.once('finish', () => stream.destroy());
        break;
      }
      default:
        break;
    }
  }

  /**
   * Delivers a held QoS 1/2 message once its PUBACK/PUBCOMP is on the wire. `packetsend` fires
   * just before MQTT.js encodes the ack, so delivery waits for the next tick: what the callback
   * writes (a DISCONNECT after -C's last message) must follow the ack, as in libmosquitto.
   * MQTT.js reads each further packet in a later tick, so the order of messages is kept.
   */
  private release(mid: number | undefined): void {
    const held = this.heldMessages.get(mid ?? 0);
    if (!held) return;
    this.heldMessages.delete(mid ?? 0);
    process.nextTick(() => {
      if (!this.disconnecting) this.onMessage?.(held);
    });
  }

  private received(packet: MqttPacket): void {
    // After DISCONNECT libmosquitto closes the socket without reading on: whatever the server
    // had already sent is neither logged nor delivered.
    if (this.disconnecting) {
      this.heldMessages.clear();
      return;
    }
    switch (packet.cmd) {
      case 'connack': {
        const assigned = packet.properties?.assignedClientIdentifier;
        if (typeof assigned === 'string') this.id = assigned;
        const rc = (this.protocolVersion === 5 ? packet.reasonCode : packet.returnCode) ?? 0;
        this.log(`Client ${this.logId} received CONNACK (${rc})`);
        if (rc !== 0) {
          this.refused = true;
          this.onConnect?.(rc, Boolean(packet.sessionPresent), packet.properties);
        }
        break;
      }
      case 'publish': {
        const len = packet.payload ? Buffer.byteLength(packet.payload) : 0;
        this.log(
          `Client ${this.logId} received PUBLISH (d${packet.dup ? 1 : 0}, q${packet.qos ?? 0}, r${packet.retain ? 1 : 0}, m${packet.qos ? packet.messageId : 0}, '${packet.topic ?? ''}', ... (${len} bytes))`,
        );
        break;
      }
      case 'puback':
      case 'pubcomp': {
        const rc = packet.reasonCode ?? 0;
        this.ackCodes.set(packet.messageId ?? 0, { rc, properties: packet.properties });
        this.log(`Client ${this.logId} received ${packet.cmd.toUpperCase()} (Mid: ${packet.messageId}, RC:${rc})`);
        break;
      }
      case 'pubrec':
        if ((packet.reasonCode ?? 0) >= 0x80) {
          this.ackCodes.set(packet.messageId ?? 0, { rc: packet.reasonCode ?? 0, properties: packet.properties });
        }
        this.log(`Client ${this.logId} received PUBREC (Mid: ${packet.messageId})`);
        break;
      case 'pubrel':
        this.log(`Client ${this.logId} received PUBREL (Mid: ${packet.messageId})`);
        break;
      case 'suback':
        this.log(`Client ${this.logId} received SUBACK`);
        this.onSubscribe?.(packet.messageId ?? 0, (packet.granted ?? []).map((g) => (typeof g === 'number' ? g : 0x80)), packet.properties);
        break;
      case 'unsuback':
        this.log(`Client ${this.logId} received UNSUBACK`);
        this.onUnsubscribe?.(packet.messageId ?? 0, packet.properties);
        break;
      case 'pingresp':
        this.log(`Client ${this.logId} received PINGRESP`);
        break;
      case 'disconnect':
        this.serverDisconnect = packet.reasonCode ?? 0;
        this.log(`Received DISCONNECT (${packet.reasonCode ?? 0})`);
        break;
      case 'auth':
        this.log(`Client ${this.logId} received AUTH`);
        break;
      default:
        break;
    }
  }

  private requireClient(): MqttClientLike {
    if (!this.mqtt) throw new Error('not connected');
    return this.mqtt;
  }

  /** Publishes one message and returns its mid (QoS 0 messages get one too, as in libmosquitto). */
  publish(topic: string, payload: Buffer, qos: QoS, retain: boolean, properties?: MqttJsProperties): number {
    const client = this.requireClient();
    let mid: number;
    if (qos === 0) {
      mid = this.mids.next();
      this.qos0Mids.push(mid);
    } else {
      mid = this.mids.last >= 65535 ? 1 : this.mids.last + 1;
    }
    const opts: Record<string, unknown> = { qos, retain };
    if (properties && this.protocolVersion === 5) opts.properties = properties;
    client.publish(topic, payload, opts, (err?: Error & { code?: unknown }) => {
      const ack = this.ackCodes.get(mid);
      this.ackCodes.delete(mid);
      let rc = ack?.rc ?? 0;
      if (err && typeof err.code === 'number' && rc === 0) rc = err.code;
      if (err && rc === 0 && this.closed) return;
      this.onPublish?.(mid, rc, ack?.properties);
    });
    return mid;
  }

  /** Subscribes to one or many filters in one SUBSCRIBE packet; returns its mid. */
  subscribe(topics: readonly string[], qos: QoS, options: SubscribeOptions = {}, properties?: MqttJsProperties): number {
    const client = this.requireClient();
    const mid = this.mids.last >= 65535 ? 1 : this.mids.last + 1;
    const map: Record<string, Record<string, unknown>> = {};
    for (const t of topics) {
      map[t] = {
        qos,
        ...(this.protocolVersion === 5
          ? { nl: options.noLocal ?? false, rap: options.retainAsPublished ?? false, rh: options.retainHandling ?? 0 }
          : {}),
      };
    }
    const opts: Record<string, unknown> = {};
    if (properties && this.protocolVersion === 5) opts.properties = properties;
    // onSubscribe is called from the SUBACK as it is read (libmosquitto's order), not here.
    client.subscribe(map, opts, () => {});
    return mid;
  }

  /** Unsubscribes from one or many filters in one UNSUBSCRIBE packet; returns its mid. */
  unsubscribe(topics: readonly string[], properties?: MqttJsProperties): number {
    const client = this.requireClient();
    const mid = this.mids.last >= 65535 ? 1 : this.mids.last + 1;
    const opts: Record<string, unknown> = {};
    if (properties && this.protocolVersion === 5) opts.properties = properties;
    client.unsubscribe([...topics], opts, () => {});
    return mid;
  }

  /** Sends DISCONNECT (with an MQTT 5 reason code and properties) and closes the connection. */
  disconnect(reasonCode = 0, properties?: MqttJsProperties): void {
    if (this.refused && !this.disconnecting) {
      // After a refusing CONNACK libmosquitto still writes (and logs) a DISCONNECT into the
      // closing connection; the server has gone, so only the log line remains.
      this.disconnecting = true;
      this.log(`Client ${this.logId} sending DISCONNECT`);
      return;
    }
    if (!this.mqtt || this.disconnecting || this.closed) return;
    this.disconnecting = true;
    const opts: Record<string, unknown> = {};
    if (this.protocolVersion === 5) {
      opts.reasonCode = reasonCode;
      if (properties) opts.properties = properties;
    }
    this.mqtt.end(false, opts);
  }

  /** Drops the connection without DISCONNECT (the server publishes the will). */
  close(): void {
    if (this.closed) return;
    if (this.stream) this.stream.destroy();
    else this.closed = true;
    // MQTT.js's own end() is skipped: after a pending end() it would do nothing.
    if (this.mqtt && !this.mqtt.connected) this.finish();
  }
}
