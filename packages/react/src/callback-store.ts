/**
 * An external store (for `useSyncExternalStore`) over a callback subscription of the client —
 * `draft.onConflicts(fn)`, `client.onUndoStatus(fn)`: subscribed while a component listens, with
 * the last value kept (its identity changes only when `same` says the value changed).
 */
export interface CallbackStore<T> {
  subscribe(onChange: () => void): () => void;
  get(): T;
}

export function callbackStore<T>(listen: (fn: (value: T) => void) => () => void, initial: T, same: (a: T, b: T) => boolean): CallbackStore<T> {
  let last = initial;
  const listeners = new Set<() => void>();
  let stop: (() => void) | null = null;
  return {
    subscribe(onChange) {
      listeners.add(onChange);
      stop ??= listen((value) => {
        if (same(last, value)) return;
        last = value;
        for (const l of [...listeners]) l();
      });
      return () => {
        listeners.delete(onChange);
        if (listeners.size === 0 && stop) {
          stop();
          stop = null;
        }
      };
    },
    get: () => last,
  };
}
