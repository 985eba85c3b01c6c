export * from './constants.js';
export type * from './types.js';
export { ErrorCode, MqttProtocolError, isMqttProtocolError } from './errors.js';
