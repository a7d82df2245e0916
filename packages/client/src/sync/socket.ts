/**
 * The WebSocket the sync client uses: the one passed in options, else the platform's
 * (`globalThis.WebSocket`: browsers, Node ≥ 22), else the `ws` package (Node 20).
 */

/** The subset of the WHATWG WebSocket the client needs (`ws` implements it too). */
export interface SocketLike {
  readonly readyState: number;
  readonly bufferedAmount?: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export type SocketCtor = new (url: string, protocols?: string | string[]) => SocketLike;

let wsCtor: SocketCtor | null = null;

export async function defaultSocketCtor(): Promise<SocketCtor> {
  const native = (globalThis as { WebSocket?: SocketCtor }).WebSocket;
  if (native) return native;
  if (wsCtor) return wsCtor;
  const name = 'ws';
  const mod = (await import(/* @vite-ignore */ name)) as { default?: SocketCtor; WebSocket?: SocketCtor };
  wsCtor = (mod.WebSocket ?? mod.default) as SocketCtor;
  return wsCtor;
}

/** Text of a message event's data (string, Buffer, ArrayBuffer or view). */
export function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder().decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder().decode(data as Uint8Array);
  if (Array.isArray(data)) return data.map(textOf).join('');
  return String(data);
}
