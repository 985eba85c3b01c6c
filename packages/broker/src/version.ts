/** The Mosquitto release whose behaviour skeeter follows, and skeeter's own version. */
export const MOSQUITTO_VERSION = '2.0.20';
export const SKEETER_VERSION = '0.1.0';
/** As the broker names itself in logs and `$SYS/broker/version`: Mosquitto's words, so scripts
 * that parse "mosquitto version X" keep working, followed by ours. */
export const VERSION_STRING = `mosquitto version ${MOSQUITTO_VERSION} (skeeter ${SKEETER_VERSION})`;
