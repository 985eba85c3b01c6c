import { ReasonCodesByPacket } from '../constants.js';
import { ErrorCode, protocolError } from '../errors.js';

/** An MQTT 5 reason code outside the set its packet allows is a Protocol Error (spec 2.4). */
export function checkReasonCode(packetType: number, code: number, name: string): number {
  if (!ReasonCodesByPacket[packetType]!.has(code)) {
    throw protocolError(ErrorCode.InvalidReasonCode, `Invalid reason code 0x${code.toString(16).padStart(2, '0')} in ${name}`);
  }
  return code;
}
