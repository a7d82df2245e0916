/**
 * The recent end of the log, in memory, with each envelope's JSON cached so fan-out to many
 * connections serializes an envelope once. Holds a contiguous range of positions
 * `(start, end]`; older positions are read from the store.
 */
import type { LogEntry } from '../storage/types.js';

export interface TailEntry extends LogEntry {
  /** `JSON.stringify(env)`, computed once. */
  json: string;
  /** Replica that made it (for skipping a connection's own pushes). */
  tx: string;
}

export class LogTail {
  private entries: TailEntry[] = [];
  /** Position just before the first held entry. */
  private start = 0;
  /** Sum of the held entries' JSON lengths. */
  private bytes = 0;

  /** Holds at most `capacity` entries and about `maxBytes` of envelope JSON (the newest entries). */
  constructor(private readonly capacity: number, private readonly maxBytes = Infinity) {}

  /** Position of the last held entry (or `start` when empty). */
  get end(): number {
    return this.start + this.entries.length;
  }

  /** Reset to an empty tail positioned at `head`. */
  reset(head: number): void {
    this.entries = [];
    this.bytes = 0;
    this.start = head;
  }

  /** Append entries; positions must continue the tail (earlier ones are ignored). */
  push(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.pos <= this.end) continue;
      if (e.pos !== this.end + 1) {
        // A gap means we missed something: restart the tail here (older reads go to the store).
        this.entries = [];
        this.bytes = 0;
        this.start = e.pos - 1;
      }
      const json = JSON.stringify(e.env);
      this.entries.push({ ...e, json, tx: e.env.tx });
      this.bytes += json.length;
    }
    let over = Math.max(0, this.entries.length - this.capacity);
    let bytes = this.bytes;
    for (let i = 0; i < over; i++) bytes -= this.entries[i]!.json.length;
    while (over < this.entries.length && bytes > this.maxBytes) bytes -= this.entries[over++]!.json.length;
    if (over > 0) {
      this.entries.splice(0, over);
      this.start += over;
      this.bytes = bytes;
    }
  }

  /**
   * Entries after `after`, at most `limit` and about `maxBytes` of JSON (at least one); null if
   * `after` is older than the tail holds.
   */
  since(after: number, limit: number, maxBytes = Infinity): TailEntry[] | null {
    if (after < this.start) return null;
    const from = after - this.start;
    const out: TailEntry[] = [];
    let bytes = 0;
    for (let i = from; i < this.entries.length && out.length < limit && bytes < maxBytes; i++) {
      out.push(this.entries[i]!);
      bytes += this.entries[i]!.json.length;
    }
    return out;
  }
}
