/**
 * Cursors: what a client stores and sends back in `hello`. `<log id>:<position>` (log id: 16 hex
 * digits, made when the log is created); a bare position is accepted as "this log". Clients treat
 * cursors as opaque and read only the position ({@link cursorPos}). Positions form one total order
 * shared by every server node on the same store; the log id names the log, so a cursor of another
 * (deleted and recreated) log restarts the stream from the beginning.
 */

/** A cursor as the client stores it: `<log id>:<position>` (a bare position is accepted too). */
export type Cursor = string;

/** `<log id>:<position>`, or a bare position: what a hello may carry. */
export const CURSOR_RE = /^(?:[0-9a-f]{16}:)?(0|[1-9][0-9]{0,15})$/;

/** Split a cursor; `log` is null for a bare position. */
export function parseCursor(c: string | null): { log: string | null; pos: number } {
  if (c === null) return { log: null, pos: 0 };
  const i = c.indexOf(':');
  return i < 0 ? { log: null, pos: Number(c) } : { log: c.slice(0, i), pos: Number(c.slice(i + 1)) };
}

export function formatCursor(log: string, pos: number): Cursor {
  return `${log}:${pos}`;
}

/** Position part of a cursor (`<log id>:<pos>` or a bare position); 0 for null. */
export function cursorPos(c: string | null): number {
  return parseCursor(c).pos;
}
