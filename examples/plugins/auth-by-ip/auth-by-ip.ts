/**
 * auth-by-ip: lets clients connect only from the listed addresses, as Mosquitto's
 * plugins/examples/auth-by-ip does (which allows 127.0.0.1 alone). Every client goes through
 * basic authentication (with or without a user name), so this plugin sees them all.
 *
 *   plugin /path/to/examples/plugins/dist/auth-by-ip/auth-by-ip.js
 *   plugin_opt_addresses 127.0.0.1 ::1        (default: 127.0.0.1)
 *   plugin_opt_then defer                     (optional: listed addresses still need a password)
 *
 * A listed address is allowed (or, with `then defer`, left to the next check: a password file
 * or another plugin); any other address is refused (CONNACK 5 / 0x87).
 */
import type { ClientInfo, PluginHost, PluginVerdict } from '../../../packages/broker/src/index.js';

/** Node reports IPv4 clients of a dual-stack socket as ::ffff:a.b.c.d. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export function pluginInit(host: PluginHost, options: Readonly<Record<string, string>>): void {
  const listed = new Set((options['addresses'] ?? '127.0.0.1').split(/[\s,]+/).filter((a) => a.length > 0).map(plainAddress));
  const onListed: PluginVerdict = options['then'] === 'defer' ? 'defer' : 'allow';
  host.register('basic-auth', (client: ClientInfo): PluginVerdict => (listed.has(plainAddress(client.address)) ? onListed : 'deny'));
  host.log('info', `auth-by-ip: allowing ${[...listed].join(', ')}`);
}
