/**
 * Frames captured at the socket: a `ws` WebSocket class that records every text frame the server
 * sends before the client sees it, and a bare protocol session for tests that speak the wire
 * format themselves.
 */
import WebSocket from 'ws';
import { clientProtocols } from '@dataloom/protocol';

export interface Tap {
  frames: string[];
}

/** A WebSocket class for `createClient({ WebSocket })` whose instances record into `tap`. */
export function tappedSocket(Base: typeof WebSocket, tap: Tap): typeof WebSocket {
  return class Tapped extends Base {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('message', (data, isBinary) => {
        if (!isBinary) tap.frames.push(String(data));
      });
    }
  } as typeof WebSocket;
}

/** A bare connection: says hello with `cursor`, records every frame. */
export async function rawSession(url: string, token: string, replica: string, cursor: string | null): Promise<{ ws: WebSocket; frames: string[]; msgs: () => Array<Record<string, unknown>> }> {
  const frames: string[] = [];
  const ws = new WebSocket(url, clientProtocols(token, []));
  ws.on('message', (d) => frames.push(String(d)));
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  ws.send(JSON.stringify({ t: 'hello', v: 1, replica, cursor }));
  return { ws, frames, msgs: () => frames.map((f) => JSON.parse(f) as Record<string, unknown>) };
}
