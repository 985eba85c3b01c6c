/**
 * Topic names and filters (spec 4.7) and shared subscriptions (4.8.2), shared by broker and
 * clients. All functions work on JS strings; byte-level rules (UTF-8, length) are the reader's.
 */

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/** A topic name: at least one character [MQTT-4.7.3-1], no wildcards [MQTT-4.7.0-1], no U+0000. */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === PLUS || c === HASH || c === 0) return false;
  }
  return true;
}

/**
 * A topic filter: at least one character; `#` only as the whole last level [MQTT-4.7.1-2];
 * `+` only as a whole level [MQTT-4.7.1-3]; no U+0000.
 */
export function isValidTopicFilter(filter: string): boolean {
  const n = filter.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return false;
    if (c === PLUS || c === HASH) {
      if (i > 0 && filter.charCodeAt(i - 1) !== SLASH) return false;
      if (c === HASH) return i === n - 1;
      if (i < n - 1 && filter.charCodeAt(i + 1) !== SLASH) return false;
    }
  }
  return true;
}

export interface SharedSubscription {
  /** The ShareName: non-empty, without `/`, `+` or `#` [MQTT-4.8.2-1], [MQTT-4.8.2-2]. */
  group: string;
  /** The filter the group subscribes to. */
  filter: string;
}

/**
 * Parses `$share/{ShareName}/{filter}`. Returns null when the filter is not a well-formed
 * shared subscription (including when it does not start with `$share/`).
 */
export function parseSharedSubscription(filter: string): SharedSubscription | null {
  if (!filter.startsWith('$share/')) return null;
  const slash = filter.indexOf('/', 7);
  if (slash <= 7) return null; // empty share name, or no filter part
  const group = filter.slice(7, slash);
  if (group.includes('+') || group.includes('#')) return null;
  const inner = filter.slice(slash + 1);
  if (!isValidTopicFilter(inner)) return null;
  return { group, filter: inner };
}

/**
 * Whether a topic name matches a filter. `+` matches one level (possibly empty), `#` the rest
 * including the parent level ("a/#" matches "a"). Topics starting with `$` are not matched by a
 * filter starting with a wildcard [MQTT-4.7.2-1]. Works on char codes without splitting.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fl = filter.length;
  const tl = topic.length;
  if (tl > 0 && topic.charCodeAt(0) === DOLLAR) {
    const f0 = filter.charCodeAt(0);
    if (f0 === PLUS || f0 === HASH) return false;
  }
  let fi = 0;
  let ti = 0;
  while (fi < fl) {
    const fc = filter.charCodeAt(fi);
    if (fc === HASH) return true;
    if (fc === PLUS) {
      while (ti < tl && topic.charCodeAt(ti) !== SLASH) ti++;
      fi++;
      continue;
    }
    if (ti < tl && topic.charCodeAt(ti) === fc) {
      fi++;
      ti++;
      continue;
    }
    // The topic ended where the filter has "/#" left: "#" also matches the parent level.
    return ti === tl && fc === SLASH && fi + 2 === fl && filter.charCodeAt(fi + 1) === HASH;
  }
  return ti === tl;
}
