// Shared table of invalid configs: the config text, the exact log lines Mosquitto prints
// (without its timestamp prefix) and where the error is. Every `oracle: true` row was checked
// against Debian's mosquitto 2.0.11 and is re-checked by config-oracle.test.ts when it is
// installed; rows where 2.0.20 differs from 2.0.11 say so in `debian`.

export interface InvalidCase {
  readonly name: string;
  readonly conf: string;
  /** All log lines, in order; FILE stands for the config file's path. */
  readonly lines: readonly string[];
  /** Line of the error in the main file (undefined when Mosquitto prints no location). */
  readonly line: number | undefined;
  /** Compare with Debian's mosquitto (false when 2.0.11 behaves differently). */
  readonly oracle: boolean;
  readonly debian?: string;
}

const c = (name: string, conf: string, lines: string[], line: number | undefined, oracle = true, debian?: string): InvalidCase =>
  debian === undefined ? { name, conf, lines, line, oracle } : { name, conf, lines, line, oracle, debian };

const PORT_NOTICE = "The 'port' option is now deprecated and will be removed in a future version. Please use 'listener' instead.";
const BIND_NOTICE = "The 'bind_address' option is now deprecated and will be removed in a future version. The behaviour will default to true.";

export const INVALID_CASES: readonly InvalidCase[] = [
  c('unknown option', 'bogus x\n', ['Error: Unknown configuration variable "bogus".', 'Error found at FILE:1.'], 1),
  c('unknown option after a valid line', 'port 1883\nbogus\n', [PORT_NOTICE, 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2),
  c('tab is not a separator', 'port\t1883\n', ['Error: Unknown configuration variable "port\t1883".', 'Error found at FILE:1.'], 1),
  c('leading tab is part of the name', '\tport 1883\n', ['Error: Unknown configuration variable "\tport".', 'Error found at FILE:1.'], 1),
  c('indented # is not a comment', ' # comment\n', ['Error: Unknown configuration variable "#".', 'Error found at FILE:1.'], 1),
  c('option names are case sensitive', 'Port 1883\n', ['Error: Unknown configuration variable "Port".', 'Error found at FILE:1.'], 1),
  c('develop-only option is unknown in 2.0', 'listener 1883\nglobal_max_clients 5\n', ['Error: Unknown configuration variable "global_max_clients".', 'Error found at FILE:2.'], 2),
  c('line numbers count comments and blanks', '# a\n\n\r\n   \nbogus\n', ['Error: Unknown configuration variable "bogus".', 'Error found at FILE:5.'], 5),
  c('bool: yes is invalid', 'allow_anonymous yes\n', ['Error: Invalid allow_anonymous value (yes).', 'Error found at FILE:1.'], 1),
  c('bool: missing value', 'allow_anonymous\n', ['Error: Empty allow_anonymous value in configuration.', 'Error found at FILE:1.'], 1),
  c('bool: trailing tab kept in the token', 'allow_anonymous true\t\n', ['Error: Invalid allow_anonymous value (true\t).', 'Error found at FILE:1.'], 1),
  c('bool: TRUE is invalid', 'connection_messages TRUE\n', ['Error: Invalid connection_messages value (TRUE).', 'Error found at FILE:1.'], 1),
  c('bool alias keeps its own name', 'retained_persistence maybe\n', ['Error: Invalid retained_persistence value (maybe).', 'Error found at FILE:1.'], 1),
  c('duplicate string', 'pid_file   /tmp/a b  \npid_file x\n', ['Error: Duplicate pid_file value in configuration.', 'Error found at FILE:2.'], 2),
  c('duplicate user', 'user a\nuser b\n', ['Error: Duplicate user value in configuration.', 'Error found at FILE:2.'], 2),
  c('duplicate auto_id_prefix', 'auto_id_prefix a\nauto_id_prefix b\n', ['Error: Duplicate auto_id_prefix value in configuration.', 'Error found at FILE:2.'], 2),
  c('duplicate global acl_file across listeners', 'acl_file a\nlistener 1883\nacl_file b\n', ['Error: Duplicate acl_file value in configuration.', 'Error found at FILE:3.'], 3),
  c('duplicate log_timestamp_format', 'log_timestamp_format %H\nlog_timestamp_format %M\n', ['Error: Duplicate log_timestamp_format value in configuration.', 'Error found at FILE:2.'], 2),
  c('string only blanks', 'pid_file  \t \n', ['Error: Empty pid_file value in configuration.', 'Error found at FILE:1.'], 1),
  c('string with tab inside is malformed UTF-8', 'pid_file a\tb\n', ['Error: Malformed UTF-8 in configuration.', 'Error found at FILE:1.'], 1),
  c('string with invalid bytes', 'pid_file \xff\xfe\n', ['Error: Malformed UTF-8 in configuration.', 'Error found at FILE:1.'], 1),
  c('string with U+FFFF', 'pid_file \xef\xbf\xbf\n', ['Error: Malformed UTF-8 in configuration.', 'Error found at FILE:1.'], 1),
  c('string with C1 control', 'pid_file \xc2\x80x\n', ['Error: Malformed UTF-8 in configuration.', 'Error found at FILE:1.'], 1),
  c('empty log_type is logged and ignored', 'log_type\nbogus\n', ['Error: Empty log_type value in configuration.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2),
  c('empty max_connections is logged and ignored', 'max_connections\nbogus\n', ['Error: Empty max_connections value in configuration.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2),
  c('empty protocol is logged and ignored', 'protocol\nbogus\n', ['Error: Empty protocol value in configuration.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2),
  c('empty persistent_client_expiration is logged and ignored', 'persistent_client_expiration\nbogus\n', ['Error: Empty persistent_client_expiration value in configuration.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2),
  c('expiration bad unit', 'persistent_client_expiration 5x\n', ['Error: Invalid persistent_client_expiration duration in configuration.', 'Error found at FILE:1.'], 1),
  c('expiration zero', 'persistent_client_expiration 0d\n', ['Error: Invalid persistent_client_expiration duration in configuration.', 'Error found at FILE:1.'], 1),
  c('sys_interval too big', 'sys_interval 70000\n', ['Error: Invalid sys_interval value (70000).', 'Error found at FILE:1.'], 1),
  c('sys_interval negative', 'sys_interval -1\n', ['Error: Invalid sys_interval value (-1).', 'Error found at FILE:1.'], 1),
  c('atoi truncates to 32 bits', 'sys_interval 99999999999\n', ['Error: Invalid sys_interval value (1215752191).', 'Error found at FILE:1.'], 1),
  c('max_keepalive too big', 'max_keepalive 70000\n', ['Error: Invalid max_keepalive value (70000).', 'Error found at FILE:1.'], 1),
  c('max_keepalive negative', 'max_keepalive -1\n', ['Error: Invalid max_keepalive value (-1).', 'Error found at FILE:1.'], 1),
  c('max_packet_size below 20', 'max_packet_size 10\n', ['Error: Invalid max_packet_size value (10).', 'Error found at FILE:1.'], 1),
  c('max_packet_size 0', 'max_packet_size 0\n', ['Error: Invalid max_packet_size value (0).', 'Error found at FILE:1.'], 1),
  c('max_inflight_messages too big', 'max_inflight_messages 70000\n', ['Error: max_inflight_messages must be <= 65535.', 'Error found at FILE:1.'], 1),
  c('message_size_limit too big', 'message_size_limit 268435456\n', ['Note: It is recommended to replace `message_size_limit` with `max_packet_size`.', 'Error: Invalid message_size_limit value (268435456).', 'Error found at FILE:1.'], 1),
  c('message_size_limit negative reads unsigned', 'message_size_limit -1\n', ['Note: It is recommended to replace `message_size_limit` with `max_packet_size`.', 'Error: Invalid message_size_limit value (4294967295).', 'Error found at FILE:1.'], 1),
  c('memory_limit negative', 'memory_limit -1\n', ['Error: Invalid memory_limit value (-1).', 'Error found at FILE:1.'], 1),
  c('log_facility out of range', 'log_facility 8\n', ['Error: Invalid log_facility value (8).', 'Error found at FILE:1.'], 1),
  c('log_dest file without path', 'log_dest file\n', ['Error: Empty "log_dest file" value in configuration.', 'Error found at FILE:1.'], 1),
  c('two log_dest file', 'log_dest file /tmp/x\nlog_dest file /tmp/y\n', ['Error: Duplicate "log_dest file" value.', 'Error found at FILE:2.'], 2),
  c('log_dest unknown', 'log_dest bogus\n', ['Error: Invalid log_dest value (bogus).', 'Error found at FILE:1.'], 1),
  c('log_dest empty', 'log_dest\n', ['Error: Empty log_dest value in configuration.', 'Error found at FILE:1.'], 1),
  c('log_type unknown', 'log_type bogus\n', ['Error: Invalid log_type value (bogus).', 'Error found at FILE:1.'], 1),
  c('mount_point before any listener', 'mount_point a/\n', ['Error: You must use create a listener before using the mount_point option in the configuration file.', 'Error found at FILE:1.'], 1),
  c('mount_point with wildcard', 'listener 1883\nmount_point a/#\n', ["Error: Invalid mount_point 'a/#'. Does it contain a wildcard character?", 'Error found at FILE:2.'], 2),
  c('duplicate mount_point', 'listener 1883\nmount_point a/b\nmount_point c\n', ['Error: Duplicate mount_point value in configuration.', 'Error found at FILE:3.'], 3),
  c('per_listener_settings after a security option', 'acl_file x\nper_listener_settings true\n', ['Error: per_listener_settings must be set before any other security settings.', 'Error found at FILE:2.'], 2),
  c('check_retain_source counts as a security option', 'check_retain_source true\nper_listener_settings true\n', ['Error: per_listener_settings must be set before any other security settings.', 'Error found at FILE:2.'], 2),
  c('auth_opt without plugin', 'auth_opt_x y\n', ['Error: An auth_opt_ option exists in the config file without an auth_plugin.', 'Error found at FILE:1.'], 1),
  c('plugin_opt key too short', 'plugin /x\nplugin_opt_ab y\n', ['Error: Invalid auth_opt_ config option.', 'Error found at FILE:2.'], 2),
  c('plugin_opt without value', 'plugin /x\nplugin_opt_abc   \n', ['Error: Empty abc value in configuration.', 'Error found at FILE:2.'], 2),
  c('deny_special_chars without plugin', 'auth_plugin_deny_special_chars false\n', ['Error: An auth_plugin_deny_special_chars option exists in the config file without an auth_plugin.', 'Error found at FILE:1.'], 1),
  c('plugin without path', 'plugin\n', ['Error: Empty auth_plugin value in configuration.', 'Error found at FILE:1.'], 1),
  c('listener without port', 'listener\n', ['Error: Empty listener value in configuration.', 'Error found at FILE:1.'], 1),
  c('listener 0 without path', 'listener 0\n', ['Error: A listener with port 0 must provide a Unix socket path.', 'Error found at FILE:1.'], 1),
  c('listener port non-numeric reads 0', 'listener abc\n', ['Error: A listener with port 0 must provide a Unix socket path.', 'Error found at FILE:1.'], 1),
  c('listener port too big', 'listener 70000\n', ['Error: Invalid port value (70000).', 'Error found at FILE:1.'], 1),
  c('port 0', 'port 0\n', [PORT_NOTICE, 'Error: Invalid port value (0).', 'Error found at FILE:1.'], 1),
  c('port twice warns', 'port 1\nport 2\nbogus\n', [PORT_NOTICE, PORT_NOTICE, 'Warning: Default listener port specified multiple times. Only the latest will be used.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:3.'], 3),
  c('bind_address empty', 'bind_address\n', [BIND_NOTICE, 'Error: Empty default listener bind_address value in configuration.', 'Error found at FILE:1.'], 1),
  c('max_qos 3', 'max_qos 3\n', ['Error: max_qos must be between 0 and 2 inclusive.', 'Error found at FILE:1.'], 1),
  c('maximum_qos -1', 'maximum_qos -1\n', ['Error: max_qos must be between 0 and 2 inclusive.', 'Error found at FILE:1.'], 1),
  c('max_topic_alias too big', 'max_topic_alias 70000\n', ['Error: Invalid max_topic_alias value in configuration.', 'Error found at FILE:1.'], 1),
  c('max_topic_alias empty', 'max_topic_alias\n', ['Error: Empty max_topic_alias value in configuration.', 'Error found at FILE:1.'], 1),
  c('socket_domain unknown', 'socket_domain ipv5\n', ['Error: Invalid socket_domain value "ipv5" in configuration.', 'Error found at FILE:1.'], 1),
  c('protocol unknown', 'protocol mqttsn\n', ['Error: Invalid protocol value (mqttsn).', 'Error found at FILE:1.'], 1),
  c('tls_engine_kpass_sha1 not hex fails silently', 'tls_engine_kpass_sha1 zz\n', ['Error found at FILE:1.'], 1),
  c('websockets_headers_size too big', 'websockets_headers_size 70000\n', ['Error: Websockets headers size must be between 0 and 65535 inclusive.', 'Error found at FILE:1.'], 1),
  c('cafile on a psk listener', 'listener 8883\npsk_hint h\ncafile c\n', ['Error: Cannot use both certificate and psk encryption in a single listener.', 'Error found at FILE:3.'], 3),
  c('connection without name', 'connection\n', ['Error: Empty connection value in configuration.', 'Error found at FILE:1.'], 1),
  c('duplicate bridge name', 'connection a\nconnection a\n', ['Error: Duplicate bridge name "a".', 'Error found at FILE:2.'], 2),
  c('bridge option outside a bridge', 'address x\n', ['Error: Invalid bridge configuration.', 'Error found at FILE:1.'], 1),
  c('cleansession outside a bridge', 'cleansession true\n', ['Error: Invalid bridge configuration.', 'Error found at FILE:1.'], 1),
  c('notifications_local_only has no full stop', 'notifications_local_only true\n', ['Error: Invalid bridge configuration', 'Error found at FILE:1.'], 1),
  c('address empty', 'connection a\naddress\n', ['Error: Empty address value in configuration.', 'Error found at FILE:2.'], 2),
  c('address port 0', 'connection a\naddress h:0\n', ['Error: Invalid port value (0).', 'Error found at FILE:2.'], 2),
  c('address port non-numeric', 'connection a\naddress h:abc\n', ['Error: Invalid port value (0).', 'Error found at FILE:2.'], 2),
  c('topic empty', 'connection a\ntopic\n', ['Error: Empty topic value in configuration.', 'Error found at FILE:2.'], 2),
  c('topic bad direction', 'connection a\ntopic a sideways\n', ["Error: Invalid bridge topic direction 'sideways'.", 'Error found at FILE:2.'], 2),
  c('topic qos 3', 'connection a\ntopic a in 3\n', ["Error: Invalid bridge QoS level '3'.", 'Error found at FILE:2.'], 2),
  c('topic "" without prefixes', 'connection a\ntopic "" in 0\n', ['Error: Invalid bridge remapping.', 'Error found at FILE:2.'], 2),
  c('topic local prefix wildcard', 'connection a\ntopic a/# in 0 x/+ y\n', ["Error: Invalid bridge topic local prefix 'x/+'.", 'Error found at FILE:2.'], 2),
  c('topic remote prefix wildcard', 'connection a\ntopic a/# in 0 x/ y/+\n', ["Error: Invalid bridge topic remote prefix 'y/+'.", 'Error found at FILE:2.'], 2),
  c('topic prefix and pattern combination', 'connection a\ntopic a# out 0 x/ y/\n', ["Error: Invalid bridge topic local prefix and pattern combination 'x/a#'.", 'Error: Out of memory.', 'Error found at FILE:2.'], 2),
  c('start_type manual', 'connection a\nstart_type manual\n', ['Error: Manual start_type not supported.', 'Error found at FILE:2.'], 2),
  c('start_type unknown', 'connection a\nstart_type bogus\n', ['Error: Invalid start_type value in configuration (bogus).', 'Error found at FILE:2.'], 2),
  c('bridge_protocol_version unknown', 'connection a\nbridge_protocol_version mqttv5\n', ['Error: Invalid bridge_protocol_version value (mqttv5).', 'Error found at FILE:2.'], 2),
  c('restart_timeout cap below base', 'connection a\nrestart_timeout 10 5\n', ['Error: backoff cap is lower than the base in restart_timeout.', 'Error found at FILE:2.'], 2),
  c('keepalive_interval too big', 'connection a\nkeepalive_interval 70000\n', ['Error: Bridge keepalive value too high.', 'Error found at FILE:2.'], 2),
  c('bridge local_clientid empty (Mosquitto typo kept)', 'connection a\nlocal_clientid\n', ['Error: Empty bridge local clientd value in configuration.', 'Error found at FILE:2.'], 2),
  c('bridge clientid alias empty', 'connection a\nclientid\n', ['Error: Empty bridge remote clientid value in configuration.', 'Error found at FILE:2.'], 2),
  c('bridge username alias empty', 'connection a\nusername\n', ['Error: Empty bridge remote_username value in configuration.', 'Error found at FILE:2.'], 2),
  c('bridge psk after cafile', 'connection a\nbridge_cafile y\nbridge_psk x\n', ['Error: Cannot use both certificate and psk encryption in a single bridge.', 'Error found at FILE:3.'], 3),
  c('bridge cafile after identity', 'connection a\nbridge_identity x\nbridge_cafile y\n', ['Error: Cannot use both certificate and psk encryption in a single bridge.', 'Error found at FILE:3.'], 3),
  c('bridge without topics', 'connection a\naddress 127.0.0.1\n', ['Error: Invalid bridge configuration: no topics defined.'], undefined),
  c('bridge without address', 'connection a\ntopic x\n', ['Error: Invalid bridge configuration: no remote addresses defined.'], undefined),
  c('bridge notices then error', 'connection a\nidle_timeout 0\nthreshold 0\nkeepalive_interval 1\nrestart_timeout 0\nbogus\n', ['idle_timeout interval too low, using 1 second.', 'threshold too low, using 1 message.', 'keepalive interval too low, using 5 seconds.', 'restart_timeout interval too low, using 1 second.', 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:6.'], 6),
  c('deprecation notices come before the error', 'retry_interval 5\nallow_duplicate_messages true\nclientid_prefixes a\nbogus\n', ['Warning: The retry_interval option is no longer available.', "The 'allow_duplicate_messages' option is now deprecated and will be removed in a future version. The behaviour will default to true.", "The 'clientid_prefixes' option is now deprecated and will be removed in a future version.", 'Error: Unknown configuration variable "bogus".', 'Error found at FILE:4.'], 4),
  c('include_dir empty', 'include_dir\n', ['Error: Empty include_dir value in configuration.', 'Error found at FILE:1.'], 1),
  // 2.0.13+ allows 0 ("no limit"); Deb 2.0.11 still wants >= 10.
  c('max_keepalive 5 (2.0.20 accepts it)', 'max_keepalive 5\nbogus\n', ['Error: Unknown configuration variable "bogus".', 'Error found at FILE:2.'], 2, false, 'Deb 2.0.11: Error: Invalid max_keepalive value (5).'),
];
