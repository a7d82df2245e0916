/**
 * Operations: the unit a replica logs, syncs and merges. A replica's state is a function of the
 * *set* of operations it holds (see DESIGN.md "Merge rules").
 *
 * Wire and disk forms are JSON-safe: global string ids, attribute names without the colon,
 * values in {@link WireValue} form.
 */

/** Hybrid logical clock stamp as a sortable string: `<ms:12 base36>-<counter:4 base36>-<replica>`. */
export type HlcString = string;

/**
 * Globally unique entity id, allocated on a replica without coordination:
 * `<replica>.<ms base36>_<counter base36>_<index base36>` from the creating transaction's HLC and
 * the entity's position in it (see `hlc/ids.ts`). Treat as opaque: any `<replica>.<[0-9a-z_]+>`
 * string is valid (e.g. ids made by a server or a migration).
 */
export type GlobalId = string;

/**
 * A value as it travels and is stored. Strings, finite numbers and booleans stand for themselves;
 * the rest are tagged objects.
 */
export type WireValue =
  | string
  | number
  | boolean
  | { kw: string } // keyword, fqn without colon
  | { inst: number } // Date, ms since epoch
  | { uuid: string }
  | { ref: GlobalId }; // entity reference

/** One datom-level operation. */
export interface Op {
  /** Unique operation id: `${tx}/${index within tx}`. Applying an op id twice is a no-op. */
  id: string;
  /** HLC of the transaction that made it; the total order for merge decisions. */
  tx: HlcString;
  /** The entity. */
  e: GlobalId;
  /**
   * - `add`: assert `[e a v]`
   * - `retract`: retract `[e a v]` (cardinality many) or the value of `[e a]` (cardinality one, `v` omitted)
   * - `retractEntity`: tombstone hiding every older op on `e` and every older ref to `e`
   * - `text`: a Yjs update (base64 in `v`) for a `:db.type/text` attribute
   */
  op: 'add' | 'retract' | 'retractEntity' | 'text';
  /** Attribute fqn (no colon); absent for `retractEntity`. */
  a?: string;
  v?: WireValue;
}

/** A transaction as sent from a replica: all its ops share `tx`. */
export interface TxEnvelope {
  tx: HlcString;
  /** Replica that made it. */
  replica: string;
  ops: Op[];
  /** Optional server-checked preconditions (`:db/cas`), judged by the server only. */
  checks?: Array<{ kind: 'cas'; e: GlobalId; a: string; expected: WireValue | null; v: WireValue }>;
  /** Draft id when these are draft operations (not part of the committed view). */
  draft?: string;
}

/** A visible datom of the merge state. */
export interface VisibleDatom {
  e: GlobalId;
  a: string;
  v: WireValue;
  /** Stamp of the op that decided it (for text: the newest text op). */
  tx: HlcString;
}

/** A change of the visible state: a datom appeared (`added`) or disappeared. */
export interface DatomChange extends VisibleDatom {
  added: boolean;
}
