/**
 * Runs `fn` on the next macrotask: `setImmediate` in Node, a `MessageChannel` message in browsers
 * and workers (no 4 ms timer clamping), else a zero timeout. The replica's deferred work (remote
 * coalescing, ack batching) waits for this.
 */
export function nextMacrotask(fn: () => void): void {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown; MessageChannel?: typeof MessageChannel };
  if (g.setImmediate) {
    g.setImmediate(fn);
    return;
  }
  if (g.MessageChannel) {
    const ch = new g.MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      fn();
    };
    ch.port2.postMessage(null);
    return;
  }
  setTimeout(fn, 0);
}
