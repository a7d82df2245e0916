import { valueKey, type ValueKey } from '@dataloom/core';
import type { DataloomSource, LiveView } from './source.js';

/** How long a view created by a render that never committed stays open, waiting for a subscriber. */
const ORPHAN_GC_MS = 2_000;

/**
 * One shared live view: the engine's view and the components subscribed to it. The rows are the
 * view's own (`LiveView.rows()`: one cache, kept by the engine's or the client's view), read as
 * they are; this keeps only the snapshot it last handed to React.
 *
 * Lifecycle: created on first render that asks for its key; retained by each `subscribe` (the
 * `useSyncExternalStore` subscription, i.e. each mounted component); when the last subscriber
 * leaves, the engine view is closed at the end of the current task (a microtask later, so React
 * StrictMode's unsubscribe/resubscribe does not rebuild it). A view created by a render that never
 * commits is closed after {@link ORPHAN_GC_MS}. A closed entry that gets a subscriber reopens.
 */
export class SharedView {
  private view: LiveView | null = null;
  private unsubscribeView: (() => void) | void = undefined;
  /** What {@link getSnapshot} returns: the view's rows, or the previous rows while they are equal. */
  private snapshot: readonly unknown[] = EMPTY;
  /** The view's rows the snapshot was taken from. */
  private seen: readonly unknown[] | null = null;
  /** The view was (re)opened and its first loaded rows have not been compared with the old ones. */
  private fresh = false;
  private readonly listeners = new Set<() => void>();
  private refs = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private failure: { error: unknown } | null = null;
  private loadedFlag = false;
  /** Changes received since it opened, and what taking the last one's snapshot cost (ms). */
  private updates = 0;
  private lastUpdateMs: number | null = null;

  constructor(
    private readonly registry: ViewRegistry,
    readonly key: ValueKey,
    private readonly query: unknown,
    private readonly inputs: readonly unknown[],
  ) {}

  /** Whether the engine view is currently open. */
  get open(): boolean {
    return this.view !== null;
  }

  /** The error the view reported asynchronously (its `ready` rejected), if any. */
  get error(): { error: unknown } | null {
    return this.failure;
  }

  /** Whether the initial result is in (always, for views without `ready`). */
  readonly getLoaded = (): boolean => {
    this.getSnapshot();
    return this.loadedFlag;
  };

  /** Number of mounted subscribers. */
  get subscribers(): number {
    return this.refs;
  }

  /** The current rows; stable identity between changes. */
  readonly getSnapshot = (): readonly unknown[] => {
    if (this.view === null) {
      this.openView();
      this.registry.adopt(this);
      this.scheduleOrphanCheck();
    }
    return this.current();
  };

  /** The snapshot for the view's current rows (a new array exactly when they changed). */
  private current(): readonly unknown[] {
    const view = this.view;
    if (view === null || this.failure !== null || !this.loadedFlag) return this.snapshot;
    const rows = view.rows();
    if (rows === this.seen) return this.snapshot;
    this.seen = rows;
    // Reopening that finds the same rows keeps the old snapshot's identity.
    if (!(this.fresh && sameRows(rows, this.snapshot))) this.snapshot = rows;
    this.fresh = false;
    return this.snapshot;
  }

  /** The `useSyncExternalStore` subscribe function for this view. */
  readonly subscribe = (onChange: () => void): (() => void) => {
    this.refs++;
    this.cancelTimer();
    if (this.view === null) {
      this.openView();
      this.registry.adopt(this);
    }
    this.listeners.add(onChange);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.listeners.delete(onChange);
      this.refs--;
      if (this.refs === 0) queueMicrotask(() => this.collectIfUnused());
    };
  };

  /** Starts the orphan timer: a render created this view but nothing subscribed yet. */
  scheduleOrphanCheck(): void {
    if (this.refs > 0 || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.collectIfUnused();
    }, ORPHAN_GC_MS);
  }

  /** Closes the engine view now, whatever the subscribers (the provider unmounts or changes source). */
  dispose(): void {
    this.cancelTimer();
    const unsubscribe = this.unsubscribeView;
    const view = this.view;
    this.view = null;
    this.unsubscribeView = undefined;
    this.registry.forget(this);
    if (typeof unsubscribe === 'function') unsubscribe();
    view?.close();
  }

  private collectIfUnused(): void {
    if (this.refs === 0 && this.view !== null) this.dispose();
  }

  private cancelTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private openView(): void {
    const view = this.registry.source.watch(this.query, ...this.inputs);
    this.view = view;
    this.seen = null;
    this.fresh = true;
    // A view with `ready` has no meaningful rows before it resolves.
    this.loadedFlag = !view.ready;
    this.unsubscribeView = view.subscribe(() => {
      if (this.view !== view) return;
      const t0 = now();
      const before = this.snapshot;
      const changed = this.current() !== before;
      this.updates++;
      this.lastUpdateMs = now() - t0;
      if (changed) this.notify();
    });
    view.ready?.then(
      () => {
        if (this.view !== view) return;
        this.loadedFlag = true;
        this.notify();
      },
      (error: unknown) => {
        if (this.view !== view) return;
        this.failure = { error };
        this.loadedFlag = true;
        this.snapshot = EMPTY_FAILED; // a new snapshot, so subscribers re-render and see the error
        this.notify();
      },
    );
  }

  /** What devtools show of this view. */
  info(): WatchedQueryInfo {
    return {
      query: typeof this.query === 'string' ? this.query.replace(/\s+/g, ' ').trim() : String(valueKey(this.query)),
      inputs: this.inputs,
      rows: this.snapshot.length,
      subscribers: this.refs,
      loaded: this.loadedFlag,
      updates: this.updates,
      lastUpdateMs: this.lastUpdateMs,
      error: this.failure ? String((this.failure.error as Error)?.message ?? this.failure.error) : null,
    };
  }

  private loading: Promise<void> | null = null;
  private settleLoading: (() => void) | null = null;

  /**
   * Resolves once the initial result is in (or the view failed); what a suspended render waits
   * for. The view is held open meanwhile, as if a component were mounted.
   */
  whenLoaded(): Promise<void> {
    this.getSnapshot();
    if (this.loadedFlag) return Promise.resolve();
    if (this.loading) return this.loading;
    this.refs++;
    this.cancelTimer();
    this.loading = new Promise<void>((resolve) => (this.settleLoading = resolve)).finally(() => {
      this.loading = null;
      this.refs--;
      if (this.refs === 0) this.scheduleOrphanCheck();
    });
    return this.loading;
  }

  private notify(): void {
    if (this.loadedFlag && this.settleLoading) {
      const settle = this.settleLoading;
      this.settleLoading = null;
      settle();
    }
    for (const l of [...this.listeners]) l();
  }
}

const EMPTY: readonly unknown[] = Object.freeze([]);
const EMPTY_FAILED: readonly unknown[] = Object.freeze([]);

function sameRows(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (valueKey(a[i]) !== valueKey(b[i])) return false;
  return true;
}

/** One shared live view as devtools show it (`watchedQueries`). */
export interface WatchedQueryInfo {
  /** The query (whitespace collapsed) and its inputs. */
  readonly query: string;
  readonly inputs: readonly unknown[];
  /** Rows in the result now. */
  readonly rows: number;
  /** Mounted components reading it. */
  readonly subscribers: number;
  /** The initial result is in. */
  readonly loaded: boolean;
  /** Changes received since the view opened, and how long applying the last one took (ms). */
  readonly updates: number;
  readonly lastUpdateMs: number | null;
  readonly error: string | null;
}

const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** The shared views of one source, by (query, inputs) key. */
export class ViewRegistry {
  private readonly views = new Map<ValueKey, SharedView>();

  constructor(readonly source: DataloomSource) {}

  /** The shared view for `query` and `inputs`, opening it if needed (during render). */
  get(query: unknown, inputs: readonly unknown[]): SharedView {
    const key = valueKey([query, inputs]);
    let v = this.views.get(key);
    if (v === undefined) {
      v = new SharedView(this, key, query, inputs);
      v.getSnapshot(); // opens now, so a bad query throws during render (for error boundaries)
    }
    return v;
  }

  /** Number of open views (for tests and devtools). */
  get size(): number {
    return this.views.size;
  }

  /** @internal a reopened view registers itself again. */
  adopt(v: SharedView): void {
    if (!this.views.has(v.key)) this.views.set(v.key, v);
  }

  /** @internal */
  forget(v: SharedView): void {
    if (this.views.get(v.key) === v) this.views.delete(v.key);
  }

  /** Every open view, as devtools show it. */
  list(): WatchedQueryInfo[] {
    return [...this.views.values()].map((v) => v.info());
  }

  /** Closes every view. */
  disposeAll(): void {
    for (const v of [...this.views.values()]) v.dispose();
  }
}

const registries = new WeakMap<DataloomSource, ViewRegistry>();

/** The registry of `source` (one per source, shared by every provider that passes it). */
export function registryFor(source: DataloomSource): ViewRegistry {
  let r = registries.get(source);
  if (r === undefined) {
    r = new ViewRegistry(source);
    registries.set(source, r);
  }
  return r;
}
