/**
 * message-timestamp: adds the user property `timestamp` with the time the broker received each
 * message, in UTC to the second (`2025-11-26T04:10:00Z`), as Mosquitto's
 * plugins/message-timestamp does. MQTT 5 subscribers see it; 3.x subscribers have no properties.
 *
 *   plugin /path/to/examples/plugins/dist/message-timestamp/message-timestamp.js
 */
import type { ClientInfo, MessageEvent, PluginHost } from '../../../packages/broker/src/index.js';

/** strftime's "%Y-%m-%dT%H:%M:%SZ" in UTC. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

export function pluginInit(host: PluginHost): void {
  host.register('message', (_client: ClientInfo, message: MessageEvent) => {
    const properties = { ...message.properties };
    // Appended after the publisher's own user properties, as mosquitto_property_add_string_pair does.
    properties.userProperties = [...(properties.userProperties ?? []), ['timestamp', timestamp(Date.now())]];
    message.properties = properties;
    return 'allow';
  });
}
