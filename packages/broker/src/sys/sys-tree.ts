/**
 * The $SYS tree (reference section 3): broker statistics published as retained QoS 2 messages
 * every sys_interval seconds. The first update publishes every topic; later ones only the topics
 * whose value changed, plus the uptime. Load figures are Mosquitto's exponentially decayed
 * per-minute rates over 1, 5 and 15 minutes.
 */
import type { Broker } from '../broker.js';
import { StoredMessage } from '../message.js';

const LOAD_WINDOWS: Array<[string, number]> = [['1min', 60], ['5min', 300], ['15min', 900]];

export class SysTree {
  private readonly broker: Broker;
  private timer: NodeJS.Timeout | undefined;
  private readonly last = new Map<string, string>();
  private lastUpdate = 0;
  private maxClients = 0;
  private readonly loads = new Map<string, number>();
  private readonly previous = new Map<string, number>();

  constructor(broker: Broker) {
    this.broker = broker;
  }

  start(): void {
    this.publish('$SYS/broker/version', this.broker.versionString, true);
    this.update();
    // Mosquitto's loop updates when more than sys_interval seconds have passed, with one-second
    // resolution: effectively every sys_interval + 1 seconds (reference 3.2).
    this.timer = setInterval(() => this.update(), (this.broker.settings.sysInterval + 1) * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private publish(topic: string, value: string, force = false): void {
    if (!force && this.last.get(topic) === value) return;
    this.last.set(topic, value);
    const payload = Buffer.from(value);
    this.broker.publish(new StoredMessage(topic, payload, 2, true, undefined, 0, ''));
  }

  update(): void {
    const b = this.broker;
    const now = Date.now();
    const uptime = Math.floor((now - b.startedAt) / 1000);
    this.publish('$SYS/broker/uptime', `${uptime} seconds`, true);

    let connected = 0;
    for (const s of b.sessions.values()) if (s.connection) connected++;
    const total = b.sessions.size;
    if (total > this.maxClients) this.maxClients = total;
    const disconnected = total - connected;
    this.publish('$SYS/broker/clients/total', String(total));
    this.publish('$SYS/broker/clients/maximum', String(this.maxClients));
    this.publish('$SYS/broker/clients/connected', String(connected));
    this.publish('$SYS/broker/clients/active', String(connected));
    this.publish('$SYS/broker/clients/disconnected', String(disconnected));
    this.publish('$SYS/broker/clients/inactive', String(disconnected));
    this.publish('$SYS/broker/clients/expired', String(b.stats.expiredClients));

    let storeBytes = 0;
    for (const m of b.retained.all()) storeBytes += m.payload.length;
    this.publish('$SYS/broker/messages/stored', String(b.retained.count));
    this.publish('$SYS/broker/store/messages/count', String(b.retained.count));
    this.publish('$SYS/broker/store/messages/bytes', String(storeBytes));
    this.publish('$SYS/broker/subscriptions/count', String(b.tree.count));
    this.publish('$SYS/broker/shared_subscriptions/count', String(b.tree.sharedCount));
    this.publish('$SYS/broker/retained messages/count', String(b.retained.count));

    const st = b.stats;
    this.publish('$SYS/broker/messages/received', String(st.messagesReceived));
    this.publish('$SYS/broker/messages/sent', String(st.messagesSent));
    this.publish('$SYS/broker/publish/messages/received', String(st.publishReceived));
    this.publish('$SYS/broker/publish/messages/sent', String(st.publishSent));
    this.publish('$SYS/broker/publish/messages/dropped', String(st.publishDropped));
    this.publish('$SYS/broker/bytes/received', String(st.bytesReceived));
    this.publish('$SYS/broker/bytes/sent', String(st.bytesSent));
    this.publish('$SYS/broker/publish/bytes/received', String(st.publishBytesReceived));
    this.publish('$SYS/broker/publish/bytes/sent', String(st.publishBytesSent));

    const dt = this.lastUpdate === 0 ? 0 : (now - this.lastUpdate) / 1000;
    this.lastUpdate = now;
    const counters: Array<[string, number]> = [
      ['messages/received', st.messagesReceived],
      ['messages/sent', st.messagesSent],
      ['publish/dropped', st.publishDropped],
      ['publish/received', st.publishReceived],
      ['publish/sent', st.publishSent],
      ['bytes/received', st.bytesReceived],
      ['bytes/sent', st.bytesSent],
      ['sockets', st.sockets],
      ['connections', st.connections],
    ];
    for (const [name, value] of counters) {
      const isReset = name === 'sockets' || name === 'connections';
      const delta = isReset ? value : value - (this.previous.get(name) ?? 0);
      this.previous.set(name, value);
      const rate = dt > 0 ? (delta * 60) / dt : 0;
      for (const [suffix, window] of LOAD_WINDOWS) {
        const key = `${name}/${suffix}`;
        const old = this.loads.get(key);
        const next = old === undefined || dt === 0 ? 0 : rate + Math.exp(-dt / window) * (old - rate);
        this.loads.set(key, next);
        const text = next.toFixed(2);
        const topic = `$SYS/broker/load/${key}`;
        // First update always; afterwards only a change of at least 0.01 (reference 3.1).
        const prev = this.last.get(topic);
        if (prev === undefined || Math.abs(Number(prev) - next) >= 0.01) this.publish(topic, text, true);
      }
    }
    st.sockets = 0;
    st.connections = 0;
  }
}
