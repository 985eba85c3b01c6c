export * from './constants.js';
export type * from './types.js';
export { ErrorCode, MqttProtocolError, isMqttProtocolError } from './errors.js';
export { isValidMqttUtf8 } from './utf8.js';
export { PROPERTY_ORDER, keepPropertyOrder } from './properties.js';
export { decodePacket, type DecodeOptions } from './decode.js';
export { Decoder, type DecoderOptions } from './decoder.js';
export { encodePacket, packetLength } from './encode.js';
export {
  preparePublish,
  encodePreparedPublish,
  type PreparedPublish,
  type PublishDelivery,
} from './publish-template.js';
export {
  isValidTopicName,
  isValidTopicFilter,
  parseSharedSubscription,
  topicMatches,
  type SharedSubscription,
} from './topic.js';
