/**
 * payload-modification: puts "hello " in front of every payload, as Mosquitto's
 * plugins/examples/payload-modification does, byte for byte: that plugin's new length counts
 * the C string's terminating NUL, so its payloads end with one 0x00 byte; so do these (set
 * `plugin_opt_trailing_nul false` to leave it out).
 *
 *   plugin /path/to/examples/plugins/dist/payload-modification/payload-modification.js
 */
import type { ClientInfo, MessageEvent, PluginHost } from '../../../packages/broker/src/index.js';

const HELLO = Buffer.from('hello ', 'latin1');

export function pluginInit(host: PluginHost, options: Readonly<Record<string, string>>): void {
  const tail = options['trailing_nul'] === 'false' ? Buffer.alloc(0) : Buffer.alloc(1);
  host.register('message', (_client: ClientInfo, message: MessageEvent) => {
    message.payload = Buffer.concat([HELLO, message.payload, tail]);
    return 'allow';
  });
}
