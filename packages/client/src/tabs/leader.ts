/**
 * Leader election among tabs with the Web Locks API: the tab holding the lock
 * `dataloom:<name>` runs the sync client; when it closes, the next tab in line takes over.
 * Without Web Locks every tab leads (still correct: the server deduplicates by op id).
 */
interface LocksLike {
  request(name: string, opts: { signal?: AbortSignal }, fn: () => Promise<void>): Promise<void>;
}

/** Calls `onLeader` once this tab holds the lock; returns a function releasing it. */
export function electLeader(name: string, onLeader: () => void): () => void {
  const locks = (globalThis as { navigator?: { locks?: LocksLike } }).navigator?.locks;
  if (!locks) {
    onLeader();
    return () => {};
  }
  const ctl = new AbortController();
  let release!: () => void;
  const held = new Promise<void>((res) => (release = res));
  locks
    .request(`dataloom:${name}`, { signal: ctl.signal }, async () => {
      onLeader();
      await held;
    })
    .catch(() => {});
  return () => {
    ctl.abort();
    release();
  };
}
