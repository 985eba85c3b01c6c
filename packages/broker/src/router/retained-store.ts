/**
 * Retained messages, one per topic, in a level tree so that a wildcard subscription visits only
 * the branches its filter can match (a `#` subscriber still visits all of them).
 */
import type { StoredMessage } from '../message.js';

class Node {
  /** Created on first child: most nodes are leaves, and a million empty Maps cost real memory. */
  children: Map<string, Node> | undefined;
  message: StoredMessage | undefined;
}

export class RetainedStore {
  private readonly root = new Node();
  count = 0;

  /** Stores a retained message; an empty payload deletes the topic's message [MQTT-3.3.1-6]. */
  set(topic: string, message: StoredMessage): void {
    const levels = topic.split('/');
    if (message.payload.length === 0) {
      this.delete(levels);
      return;
    }
    let node = this.root;
    for (const level of levels) {
      const children = (node.children ??= new Map());
      let child = children.get(level);
      if (!child) children.set(level, (child = new Node()));
      node = child;
    }
    if (!node.message) this.count++;
    node.message = message;
  }

  private delete(levels: string[]): void {
    const path: Node[] = [];
    let node: Node | undefined = this.root;
    for (const level of levels) {
      path.push(node);
      node = node.children?.get(level);
      if (!node) return;
    }
    if (!node.message) return;
    node.message = undefined;
    this.count--;
    for (let i = levels.length - 1; i >= 0 && (node.children === undefined || node.children.size === 0) && !node.message; i--) {
      const parent = path[i]!;
      parent.children!.delete(levels[i]!);
      node = parent;
    }
  }

  get(topic: string): StoredMessage | undefined {
    let node: Node | undefined = this.root;
    for (const level of topic.split('/')) {
      node = node.children?.get(level);
      if (!node) return undefined;
    }
    return node.message;
  }

  /** Every retained message whose topic matches `filter`, in tree order. */
  match(filter: string, out: StoredMessage[] = []): StoredMessage[] {
    this.walk(this.root, filter.split('/'), 0, out);
    return out;
  }

  /** Every retained message (for persistence and $SYS counts). */
  *all(): Generator<StoredMessage> {
    const stack: Node[] = [this.root];
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node.message) yield node.message;
      if (node.children) for (const child of node.children.values()) stack.push(child);
    }
  }

  private walk(node: Node, levels: string[], i: number, out: StoredMessage[]): void {
    if (i === levels.length) {
      if (node.message) out.push(node.message);
      return;
    }
    const level = levels[i]!;
    if (level === '#') {
      // "a/#" also matches "a" itself; a leading wildcard never matches `$` topics [MQTT-4.7.2-1].
      if (i > 0 && node.message) out.push(node.message);
      this.everything(node, out, i === 0);
      return;
    }
    if (level === '+') {
      if (!node.children) return;
      for (const [name, child] of node.children) {
        if (i === 0 && name.startsWith('$')) continue;
        this.walk(child, levels, i + 1, out);
      }
      return;
    }
    const child = node.children?.get(level);
    if (child) this.walk(child, levels, i + 1, out);
  }

  private everything(node: Node, out: StoredMessage[], atRoot: boolean): void {
    if (!node.children) return;
    for (const [name, child] of node.children) {
      if (atRoot && name.startsWith('$')) continue;
      if (child.message) out.push(child.message);
      this.everything(child, out, false);
    }
  }
}
