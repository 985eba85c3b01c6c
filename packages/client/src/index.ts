export { MosquittoClient } from './client.js';
export type { ConnectOptions, Message, QoS, ProtocolVersion, SubscribeOptions, Will } from './client.js';
export { openTransport, TransportError } from './transport.js';
export type { TlsSettings, ProxySettings, TransportOptions } from './transport.js';
export {
  PROPERTIES,
  PROPERTY_COMMANDS,
  propertyByName,
  toMqttJsProperties,
} from './properties.js';
export type { PropertyCommand, PropertyDefinition, PropertyEntry, PropertyType, MqttJsProperties } from './properties.js';
export { MosqErr, mosquittoStrerror, connackString, reasonString, strerror } from './strings.js';
export type { MosqErrCode } from './strings.js';
export { isValidMqttUtf8, isValidPublishTopic, isValidSubscribeFilter, topicMatchesFilter } from './topic.js';
