import type { DataloomSource, LiveView } from '../src/source.js';

/** A source that counts `watch` calls and open views, to check sharing and cleanup. */
export interface TestSource extends DataloomSource {
  readonly watches: number;
  readonly openViews: number;
  transact(tx: unknown): unknown;
}

export function countingSource(inner: DataloomSource): TestSource {
  let watches = 0;
  let open = 0;
  return {
    get watches() {
      return watches;
    },
    get openViews() {
      return open;
    },
    watch(query: unknown, ...inputs: unknown[]): LiveView {
      const view = inner.watch(query, ...inputs);
      watches++;
      open++;
      let closed = false;
      return {
        result: () => view.result(),
        rows: () => view.rows(),
        subscribe: (fn) => view.subscribe(fn),
        close: () => {
          if (!closed) {
            closed = true;
            open--;
          }
          view.close();
        },
      };
    },
    transact: (tx) => inner.transact(tx),
  };
}
