/**
 * The one place that touches MQTT.js. Only its client class is loaded (not the package entry,
 * which pulls in websockets, SOCKS and URL handling), and only when a connection is made.
 */
import type { Duplex } from 'node:stream';

/** The packet objects MQTT.js (mqtt-packet) emits, with the fields we read. */
export interface MqttPacket {
  cmd: string;
  messageId?: number;
  qos?: number;
  dup?: boolean;
  retain?: boolean;
  topic?: string;
  payload?: Buffer | string;
  reasonCode?: number;
  returnCode?: number;
  sessionPresent?: boolean;
  granted?: number[];
  subscriptions?: Array<{ topic: string; qos: number; nl?: boolean; rap?: boolean; rh?: number }>;
  unsubscriptions?: string[];
  properties?: Record<string, unknown> & { assignedClientIdentifier?: string };
}

/** The part of MqttClient's interface this package uses. */
export interface MqttClientLike {
  connected: boolean;
  on(event: string, listener: (...args: never[]) => void): unknown;
  publish(topic: string, payload: Buffer, opts: Record<string, unknown>, cb: (err?: Error & { code?: unknown }) => void): unknown;
  subscribe(
    map: Record<string, Record<string, unknown>>,
    opts: Record<string, unknown>,
    cb: (err: Error | null, granted?: Array<{ qos: number }>, packet?: MqttPacket) => void,
  ): unknown;
  unsubscribe(topics: string[], opts: Record<string, unknown>, cb: (err: Error | null, packet?: MqttPacket) => void): unknown;
  connect(): unknown;
  end(force?: boolean, opts?: Record<string, unknown>, cb?: () => void): unknown;
}

export type MqttClientConstructor = new (streamBuilder: () => Duplex, options: Record<string, unknown>) => MqttClientLike;

let cached: MqttClientConstructor | undefined;

export async function loadMqttClient(): Promise<MqttClientConstructor> {
  if (cached) return cached;
  // A literal specifier, so that esbuild bundles MQTT.js's client into the tools.
  const mod = (await import('mqtt/lib/client')) as unknown as { default: MqttClientConstructor | { default: MqttClientConstructor } };
  const ctor = typeof mod.default === 'function' ? mod.default : mod.default.default;
  cached = ctor;
  return ctor;
}

/**
 * libmosquitto 2.0 sends a `-D publish topic-alias` whatever the server's topic-alias-maximum
 * (the server judges it); MQTT.js refuses an alias above that maximum, or any alias when the
 * CONNACK announced none, and the publish would be dropped. This replaces MQTT.js's outgoing
 * alias table (`topicAliasSend`, set from CONNACK) by one that accepts every alias and still
 * maps aliases back to topics, which MQTT.js needs to store alias-only QoS>0 publishes.
 */
export function acceptEveryTopicAlias(client: MqttClientLike): void {
  const topics = new Map<number, string>();
  (client as unknown as { topicAliasSend: unknown }).topicAliasSend = {
    put: (topic: string, alias: number): boolean => {
      topics.set(alias, topic);
      return true;
    },
    getTopicByAlias: (alias: number): string | undefined => topics.get(alias),
    getAliasByTopic: (): undefined => undefined,
    getLruAlias: (): number => 0,
    clear: (): void => topics.clear(),
  };
}
