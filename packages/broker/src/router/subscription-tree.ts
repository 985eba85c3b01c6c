/**
 * The subscription tree: one node per topic level, as Mosquitto's subhier. Matching walks the
 * topic's levels once, following the exact level, `+` and `#` children. Results are cached per
 * topic (bounded) and the cache is dropped on any subscribe or unsubscribe, so steady-state
 * routing of a hot topic is one Map lookup.
 */
import type { QoS } from '@skeeter/codec';
import type { Session } from '../session/session.js';

export interface Subscription {
  readonly session: Session;
  /** The filter as the client sent it (with `$share/group/` when shared). */
  readonly filter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  /** MQTT 5: the subscription identifier as sent on deliveries ([id]), built once; else undefined. */
  identifiers: number[] | undefined;
  /** Share name for `$share/<group>/...`, else undefined. */
  readonly group: string | undefined;
}

/** Members of one shared-subscription group on one filter, served round-robin. */
export class SharedGroup {
  readonly name: string;
  readonly members: Subscription[] = [];
  constructor(name: string) {
    this.name = name;
  }

  /** Picks the next member and moves it to the end of the list, as Mosquitto does. */
  next(eligible: (s: Subscription) => boolean): Subscription | undefined {
    for (let i = 0; i < this.members.length; i++) {
      const s = this.members[i]!;
      if (eligible(s)) {
        this.members.splice(i, 1);
        this.members.push(s);
        return s;
      }
    }
    return undefined;
  }
}

class Node {
  readonly children = new Map<string, Node>();
  /** The `+` and `#` children also sit here, so matching does not look them up by name. */
  plus: Node | undefined;
  hash: Node | undefined;
  readonly subs = new Map<Session, Subscription>();
  readonly groups = new Map<string, SharedGroup>();
  get empty(): boolean {
    return this.children.size === 0 && this.subs.size === 0 && this.groups.size === 0;
  }
}

export interface MatchResult {
  subs: Subscription[];
  groups: SharedGroup[];
}

const CACHE_LIMIT = 10_000;

export class SubscriptionTree {
  private readonly root = new Node();
  private hot = new Map<string, MatchResult>();
  private cold = new Map<string, MatchResult>();
  /** Counts for $SYS. */
  count = 0;
  sharedCount = 0;

  private clearCache(): void {
    this.hot.clear();
    this.cold = new Map();
  }

  /** Adds or replaces a subscription; returns true when it is new (for retain-handling 1). */
  add(sub: Subscription, filter: string): boolean {
    this.clearCache();
    let node = this.root;
    for (const level of filter.split('/')) {
      let child = node.children.get(level);
      if (!child) {
        node.children.set(level, (child = new Node()));
        if (level === '+') node.plus = child;
        else if (level === '#') node.hash = child;
      }
      node = child;
    }
    if (sub.group === undefined) {
      const isNew = !node.subs.has(sub.session);
      node.subs.set(sub.session, sub);
      if (isNew) this.count++;
      return isNew;
    }
    let group = node.groups.get(sub.group);
    if (!group) node.groups.set(sub.group, (group = new SharedGroup(sub.group)));
    const i = group.members.findIndex((m) => m.session === sub.session);
    if (i >= 0) {
      group.members[i] = sub;
      return false;
    }
    group.members.push(sub);
    this.sharedCount++;
    this.count++;
    return true;
  }

  /** Removes a session's subscription on `filter` (the inner filter for shared ones). */
  remove(session: Session, filter: string, group: string | undefined): boolean {
    const path: Node[] = [];
    let node: Node | undefined = this.root;
    const levels = filter.split('/');
    for (const level of levels) {
      path.push(node);
      node = node.children.get(level);
      if (!node) return false;
    }
    let removed = false;
    if (group === undefined) {
      removed = node.subs.delete(session);
    } else {
      const g = node.groups.get(group);
      if (g) {
        const i = g.members.findIndex((m) => m.session === session);
        if (i >= 0) {
          g.members.splice(i, 1);
          removed = true;
          this.sharedCount--;
          if (g.members.length === 0) node.groups.delete(group);
        }
      }
    }
    if (!removed) return false;
    this.count--;
    this.clearCache();
    // Prune empty nodes bottom-up so the tree does not keep dead branches.
    for (let i = levels.length - 1; i >= 0 && node.empty; i--) {
      const parent = path[i]!;
      const level = levels[i]!;
      parent.children.delete(level);
      if (level === '+') parent.plus = undefined;
      else if (level === '#') parent.hash = undefined;
      node = parent;
    }
    return true;
  }

  match(topic: string): MatchResult {
    // Two generations: a full `hot` map becomes `cold`, and a hit there moves back to `hot`, so
    // topics in use survive a flood of one-off topics.
    let cached = this.hot.get(topic);
    if (cached) return cached;
    cached = this.cold.get(topic);
    if (cached) {
      this.remember(topic, cached);
      return cached;
    }
    const result: MatchResult = { subs: [], groups: [] };
    // A leading wildcard never matches a `$` topic [MQTT-4.7.2-1].
    this.walk(this.root, topic, 0, result, topic.charCodeAt(0) === 0x24);
    this.remember(topic, result);
    return result;
  }

  private remember(topic: string, result: MatchResult): void {
    if (this.hot.size >= CACHE_LIMIT) {
      this.cold = this.hot;
      this.hot = new Map();
    }
    this.hot.set(topic, result);
  }

  /** Matches the level starting at `start` (start === -1: past the last level). */
  private walk(node: Node, topic: string, start: number, out: MatchResult, dollar: boolean): void {
    const skipWildcards = dollar && start === 0;
    if (!skipWildcards && node.hash) collect(node.hash, out);
    if (start < 0) {
      collect(node, out);
      return;
    }
    const slash = topic.indexOf('/', start);
    const next = slash < 0 ? -1 : slash + 1;
    if (!skipWildcards && node.plus) this.walk(node.plus, topic, next, out, dollar);
    if (node.children.size > 0) {
      const exact = node.children.get(slash < 0 ? topic.slice(start) : topic.slice(start, slash));
      if (exact) this.walk(exact, topic, next, out, dollar);
    }
  }
}

function collect(node: Node, out: MatchResult): void {
  for (const s of node.subs.values()) out.subs.push(s);
  for (const g of node.groups.values()) out.groups.push(g);
}
