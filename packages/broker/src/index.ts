export * from './config/index.js';
export { Broker, type BoundListener, type BrokerStats } from './broker.js';
export { Logger, strftime } from './log.js';
export { StoredMessage } from './message.js';
export {
  defaultListener,
  defaultSettings,
  DEFAULT_LOG_TYPES,
  ALL_LOG_TYPES as ALL_LOG_TYPE_SET,
  type BrokerSettings,
  type ListenerSettings,
  type LogDest,
  type LogSettings,
  type LogType,
} from './settings.js';
export { MOSQUITTO_VERSION, SKEETER_VERSION, VERSION_STRING } from './version.js';
export { runMosquitto } from './main.js';
export { createBroker, ConfigError, type CreateBrokerOptions } from './create-broker.js';
export type { BrokerEvents } from './broker.js';
export type { AclAccess, ClientInfo, ExtendedAuthResult, ExtendedAuthStep, MessageEvent, SecurityHooks } from './security.js';
export type {
  AclCheckCallback,
  BasicAuthCallback,
  ConnectCallback,
  ControlCallback,
  DisconnectCallback,
  ExtAuthAnswer,
  ExtAuthCallback,
  ExtAuthVerdict,
  MessageCallback,
  PluginEvent,
  PluginHost,
  PluginPublishOptions,
  PluginVerdict,
  ReloadCallback,
  TickCallback,
} from './auth/index.js';
