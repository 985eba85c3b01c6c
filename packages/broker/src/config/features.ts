// Which optional features of Mosquitto exist in skeeter yet. The config parser accepts every
// 2.0 option; `unsupportedOptions` lists the lines whose feature is not implemented so the
// broker can refuse to start instead of silently ignoring them. Edit IMPLEMENTED_FEATURES as
// features land.

export const FEATURES = {
  /** Plain MQTT over TCP, logging, limits, sessions: the broker issue itself. */
  core: 'the broker core',
  tls: 'TLS listeners',
  tlsEngine: 'TLS engines (tls_engine)',
  psk: 'TLS-PSK',
  websockets: 'websockets listeners',
  unixSockets: 'unix socket listeners',
  bindInterface: 'binding to a network interface',
  bridges: 'bridges',
  bridgeTls: 'TLS and PSK bridges',
  bridgeExtras: 'bridge_max_packet_size and round_robin',
  bridgeOcsp: 'bridge_require_ocsp',
  passwordFile: 'password files',
  aclFile: 'ACL files',
  plugins: 'plugins',
  persistence: 'persistence',
} as const;

export type Feature = keyof typeof FEATURES;

/** The single table to edit when a feature lands. */
export const IMPLEMENTED_FEATURES: Readonly<Record<Feature, boolean>> = {
  core: true,
  tls: true,
  tlsEngine: false,
  psk: true,
  websockets: true,
  unixSockets: true,
  bindInterface: true,
  bridges: true,
  bridgeTls: true,
  bridgeExtras: true,
  bridgeOcsp: true,
  passwordFile: true,
  aclFile: true,
  plugins: true,
  persistence: true,
};
