/** A raw protocol connection for hand-written messages (hostile-client tests). */
import WebSocket from 'ws';
import { sleep } from './harness.js';

export interface RawConn {
  ws: WebSocket;
  /** Every message received, parsed. */
  msgs: any[];
  closed(): { code: number; reason: string } | null;
  until(pred: () => boolean, what: string, ms?: number): Promise<void>;
  send(m: unknown): void;
}

/** Opens a connection (rejects on a refused upgrade); `cleanups` gets its termination. */
export async function raw(url: string, cleanups: Array<() => unknown>, protocols: string[] = ['dataloom.v1'], headers: Record<string, string> = {}): Promise<RawConn> {
  const ws = new WebSocket(url, protocols, { headers });
  const msgs: any[] = [];
  let closed: { code: number; reason: string } | null = null;
  ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
  ws.on('close', (code, reason) => (closed = { code, reason: reason.toString() }));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  cleanups.push(() => ws.terminate());
  const until = async (pred: () => boolean, what: string, ms = 2000) => {
    for (let i = 0; i < ms / 10 && !pred(); i++) await sleep(10);
    if (!pred()) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(msgs).slice(0, 2000)}`);
  };
  return { ws, msgs, closed: () => closed, until, send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

let stampN = 0;
/** A fresh HLC stamp of `replica` (`msOffset` from now). */
export function stampOf(replica: string, msOffset = 0): string {
  const c = stampN++ % 1679616;
  return `${(Date.now() + msOffset).toString(36).padStart(12, '0')}-${c.toString(36).padStart(4, '0')}-${replica}`;
}

/** An envelope of `replica` from op bodies (ids and tx filled in). */
export function envOf(replica: string, ops: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}, msOffset = 0): { tx: string; replica: string; ops: Array<Record<string, unknown>> } {
  const tx = stampOf(replica, msOffset);
  return { tx, replica, ops: ops.map((o, i) => ({ id: `${tx}/${i}`, tx, ...o })), ...extra };
}
