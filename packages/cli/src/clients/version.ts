/** The Mosquitto release whose behaviour the tools reproduce, and skeeter's own version. */
export const MOSQUITTO_VERSION = '2.0.20';
export const SKEETER_VERSION = '0.1.0';

export type ClientTool = 'mosquitto_pub' | 'mosquitto_sub' | 'mosquitto_rr' | 'mosquitto_ctrl';

/** `mosquitto_pub version 2.0.20 running on libmosquitto 2.0.20 (skeeter 0.1.0).` */
export function versionLine(tool: ClientTool): string {
  return `${tool} version ${MOSQUITTO_VERSION} running on libmosquitto ${MOSQUITTO_VERSION} (skeeter ${SKEETER_VERSION}).\n`;
}
