/**
 * A WebSocket for the sync client that misbehaves like a bad network, driven by a seeded PRNG:
 * every message in either direction is delayed (order kept, as TCP does), some pushes and some
 * server messages are delivered twice, and some messages are lost together with the connection
 * (a reset: the socket is terminated and nothing after the lost message arrives). Each new socket
 * may go to a different server node.
 */
import WebSocket from 'ws';
import type { SocketCtor, SocketLike } from '../../../packages/client/src/sync/socket.js';

export interface Faults {
  rand: () => number;
  /** Picks the server URL for a new connection. */
  pickUrl: () => string;
  /** Largest added delay per message, ms. */
  maxDelayMs: number;
  /** Probability that a message is delivered twice (pushes out, anything in). */
  pDup: number;
  /** Probability that a message is lost and the connection reset. */
  pDrop: number;
}

/** Runs callbacks at (at least) their due times, strictly in the order they were queued. */
class FifoDelay {
  private q: Array<{ at: number; fn: () => void }> = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  push(delay: number, fn: () => void): void {
    const last = this.q.length ? this.q[this.q.length - 1]!.at : 0;
    this.q.push({ at: Math.max(last, Date.now() + delay), fn });
    this.arm();
  }
  private arm(): void {
    if (this.timer || this.q.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = Date.now();
      while (this.q.length && this.q[0]!.at <= now) this.q.shift()!.fn();
      this.arm();
    }, Math.max(0, this.q[0]!.at - Date.now()));
  }
}

export function faultySocket(f: Faults): SocketCtor {
  return class FaultySocket implements SocketLike {
    readyState = 0;
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    private readonly inner: WebSocket;
    private readonly incoming = new FifoDelay();
    private readonly outgoing = new FifoDelay();
    /** After a reset nothing more arrives (ws may still parse frames already buffered). */
    private dead = false;

    constructor(_url: string, protocols?: string | string[]) {
      const inner = new WebSocket(f.pickUrl(), protocols);
      this.inner = inner;
      inner.on('open', () => {
        this.readyState = 1;
        this.onopen?.({});
      });
      inner.on('message', (data) => {
        if (this.dead) return;
        const text = data.toString();
        if (f.rand() < f.pDrop) return this.reset();
        const n = f.rand() < f.pDup ? 2 : 1;
        for (let i = 0; i < n; i++) {
          this.incoming.push(f.rand() * f.maxDelayMs, () => {
            if (this.readyState === 1) this.onmessage?.({ data: text });
          });
        }
      });
      inner.on('close', (code, reason) => {
        this.incoming.push(0, () => {
          this.readyState = 3;
          this.onclose?.({ code, reason: reason.toString() });
        });
      });
      inner.on('error', () => this.onerror?.({}));
    }

    private reset(): void {
      this.dead = true;
      this.inner.terminate();
    }

    send(data: string): void {
      if (this.dead) return;
      if (f.rand() < f.pDrop) return this.reset();
      const n = data.startsWith('{"t":"push"') && f.rand() < f.pDup ? 2 : 1;
      for (let i = 0; i < n; i++) {
        this.outgoing.push(f.rand() * f.maxDelayMs, () => {
          if (!this.dead && this.inner.readyState === WebSocket.OPEN) this.inner.send(data);
        });
      }
    }

    close(code?: number, reason?: string): void {
      this.readyState = 2;
      try {
        this.inner.close(code, reason);
      } catch {
        this.inner.terminate();
      }
    }
  };
}
