/**
 * The replica side of `client.register` and `client.rule`: named views in the replica's dataflow
 * connection, and business rules whose transactions are the client's own local transactions.
 *
 * - A **named view** (`register(name, query, inputs)`) is a query registered in the connection
 *   under `name`: later `watch`es, rules, registrations — and `q` — use it as a relation,
 *   `[name ?a ?b]` (as in the dataflow engine's Chicago example). It is maintained incrementally
 *   like any watch. `unregister(name)` removes the name; views already built on it keep the
 *   operators they share (the engine counts references).
 * - A **rule** (`rule(name, query, inputs, fn)`) is a named view whose diffs go to `fn`: first the
 *   current rows (as `+1`), then each transaction's changes. What `fn` returns (tx data, or a
 *   promise of it; nothing for no transaction) is transacted as a local optimistic transaction —
 *   durable, synced, kept off the undo stack — exactly as if the app had called `transact`.
 *   Calls of one rule run one at a time, in order. A rule that keeps firing on its own writes is
 *   stopped after `MAX_CASCADE` consecutive self-caused firings. Errors (of `fn` or of its
 *   transaction) are reported as `rule-error` client events; the rule stays registered.
 *
 * Names in `dataloom/` are the runtime's own (watches are `dataloom/watch-<n>`).
 */
import { DataloomError, type Diff, type HlcString, Keyword, Sym } from '@dataloom/core';
import type { View } from '@dataloom/dataflow';
import type { Replica } from '../replica/replica.js';
import type { WireError } from '../replica/types.js';

/** Most consecutive firings of a rule caused by its own transactions before it is stopped. */
export const MAX_CASCADE = 100;

/** What a rule's callback gets: the diffs `[row, tx (HLC string, or null for the current rows), ±1]`. */
export type RuleFn = (diffs: Diff[]) => unknown;

export interface RegistrationsHost {
  readonly replica: Replica;
  /** The client's local transaction (`ClientService.transact`). */
  transact(tx: unknown, options: { undo: 'skip' }): Promise<{ tx: HlcString }>;
  /** Reports a rule failure to the app (`rule-error` event). */
  ruleError(name: string, error: WireError): void;
}

interface Entry {
  view: View;
  /** A rule's state; null for a plain named view. */
  rule: { chain: Promise<void>; own: Set<HlcString>; cascade: number } | null;
}

export class Registrations {
  private readonly named = new Map<string, Entry>();

  constructor(private readonly host: RegistrationsHost) {}

  /** Registers `query` under `name` (see module docs). */
  register(name: string, query: unknown, inputs: readonly unknown[]): View {
    checkName(name);
    if (this.named.has(name)) throw new DataloomError('dataflow/name-taken', `A query named ${name} is already registered`, { name });
    const view = this.host.replica.conn.register(name, query as never, ...inputs);
    this.named.set(name, { view, rule: null });
    return view;
  }

  /** Registers a business rule `name` (see module docs). */
  rule(name: string, query: unknown, inputs: readonly unknown[], fn: RuleFn): void {
    const view = this.register(name, query, inputs);
    const state = { chain: Promise.resolve(), own: new Set<HlcString>(), cascade: 0 };
    this.named.get(name)!.rule = state;
    const fire = (diffs: Diff[], tx: HlcString | null) => {
      state.chain = state.chain.then(async () => {
        if (this.named.get(name)?.view !== view) return;
        // A firing caused by this rule's own transaction (made by an earlier call of the chain,
        // so known by now) counts towards the cascade bound.
        state.cascade = tx !== null && state.own.delete(tx) ? state.cascade + 1 : 0;
        if (state.cascade > MAX_CASCADE) {
          this.unregister(name);
          const message = `Rule ${name} kept firing on its own transactions: more than ${MAX_CASCADE} in a row; stopped`;
          this.host.ruleError(name, { code: 'dataflow/runaway-rules', message, data: { bound: MAX_CASCADE, name } });
          return;
        }
        try {
          const txData = await fn(diffs);
          if (txData === undefined || txData === null || (Array.isArray(txData) && txData.length === 0)) return;
          const r = await this.host.transact(txData, { undo: 'skip' });
          state.own.add(r.tx);
          if (state.own.size > 256) state.own.delete(state.own.values().next().value!);
        } catch (e) {
          this.host.ruleError(name, wireOf(e));
        }
      });
    };
    view.subscribe((diffs) => {
      const t = diffs[0]?.[1];
      const tx = typeof t === 'number' ? this.host.replica.hlcOfTx(t) : typeof t === 'string' ? t : null;
      fire(diffs.map(([row, , m]) => [row, tx, m]), tx);
    });
    const initial = view.initialDiffs(null);
    if (initial.length > 0) fire(initial, null);
  }

  /** Removes the view or rule `name`; false when there is none. */
  unregister(name: string): boolean {
    const e = this.named.get(name);
    if (e === undefined) return false;
    this.named.delete(name);
    e.view.close();
    return true;
  }

  /** Whether `query` (EDN text or data) mentions a registered name. */
  mentioned(query: unknown): boolean {
    if (this.named.size === 0) return false;
    if (typeof query === 'string') {
      for (const name of this.named.keys()) if (mentionsText(query, name)) return true;
      return false;
    }
    return this.walk(query, 0);
  }

  private walk(x: unknown, depth: number): boolean {
    if (depth > 64) return false;
    if (x instanceof Sym || x instanceof Keyword) return this.named.has(x.fqn);
    if (Array.isArray(x)) return x.some((y) => this.walk(y, depth + 1));
    if (x !== null && typeof x === 'object' && 'items' in x && Array.isArray((x as { items: unknown }).items)) return this.walk((x as { items: unknown[] }).items, depth + 1);
    return false;
  }

  /** The registered names. */
  names(): string[] {
    return [...this.named.keys()];
  }

  close(): void {
    for (const name of [...this.named.keys()]) this.unregister(name);
  }
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !/^[^\s()[\]{}"';,]+$/.test(name) || name.startsWith(':') || name.startsWith('?') || name.startsWith('$')) {
    throw new DataloomError('client/bad-name', `A registration name must be a plain symbol such as my/view (got ${JSON.stringify(name)})`, { name: String(name) });
  }
  if (name.startsWith('dataloom/')) throw new DataloomError('client/bad-name', `Names in dataloom/ are reserved (got ${name})`, { name });
}

/** Whether EDN text contains `name` as a whole symbol (not part of a longer one). */
function mentionsText(text: string, name: string): boolean {
  let i = text.indexOf(name);
  const delim = (c: string | undefined) => c === undefined || /[\s()[\]{}"',]/.test(c);
  while (i >= 0) {
    if (delim(text[i - 1]) && delim(text[i + name.length])) return true;
    i = text.indexOf(name, i + 1);
  }
  return false;
}

function wireOf(e: unknown): WireError {
  if (e instanceof DataloomError) return e.toWire();
  return { code: 'client/rule', message: e instanceof Error ? e.message : String(e) };
}
