/**
 * Topic checks as libmosquitto does them for the tools: publish topics carry no wildcards,
 * filters use `+` and `#` only as whole levels [MQTT-4.7.1-1..3], strings are valid UTF-8
 * without control characters [MQTT-1.5.4-1..3], and `$` topics are not matched by a leading
 * wildcard [MQTT-4.7.2-1].
 */

/**
 * mosquitto_validate_utf8 on a JS string. Node decodes argv as UTF-8 and turns invalid bytes
 * into U+FFFD, so U+FFFD is treated as the trace of malformed input.
 */
export function isValidMqttUtf8(s: string): boolean {
  if (Buffer.byteLength(s, 'utf8') > 65535) return false;
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return false;
    if (cp === 0xfffd) return false;
    if (cp >= 0xd800 && cp <= 0xdfff) return false;
  }
  return true;
}

/** mosquitto_pub_topic_check: no `+` or `#` anywhere. */
export function isValidPublishTopic(topic: string): boolean {
  if (Buffer.byteLength(topic, 'utf8') > 65535) return false;
  return !topic.includes('+') && !topic.includes('#');
}

/** mosquitto_sub_topic_check: `+` fills a whole level, `#` is a whole last level. */
export function isValidSubscribeFilter(filter: string): boolean {
  if (Buffer.byteLength(filter, 'utf8') > 65535) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('+') && level !== '+') return false;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
  }
  return true;
}

/** mosquitto_topic_matches_sub: does `topic` match `filter`? */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  // "a/#" also matches "a" [MQTT-4.7.1-2]: handled above only when t is longer.
  if (t.length === f.length) return true;
  return false;
}
