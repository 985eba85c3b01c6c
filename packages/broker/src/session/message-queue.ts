/**
 * A session's queue of messages waiting for an in-flight slot: a FIFO with O(1) push and shift
 * (a head index over an array, compacted when half of it is consumed), because every PUBACK
 * takes from its front.
 */
import type { OutgoingMessage } from './session.js';

export class MessageQueue implements Iterable<OutgoingMessage> {
  private items: OutgoingMessage[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(m: OutgoingMessage): void {
    this.items.push(m);
  }

  peek(): OutgoingMessage | undefined {
    return this.items[this.head];
  }

  shift(): OutgoingMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const m = this.items[this.head]!;
    this.items[this.head++] = undefined as unknown as OutgoingMessage;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return m;
  }

  /** The waiting messages, oldest first, as a new array (one native copy, for snapshots). */
  toArray(): OutgoingMessage[] {
    return this.items.slice(this.head);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  *[Symbol.iterator](): Iterator<OutgoingMessage> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
}
