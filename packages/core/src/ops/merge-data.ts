/**
 * The records a {@link MergeState} keeps (see `state.ts` for the rules): op records
 * (`merge-ops.ts`), per-entity records, ref and claim indexes, identity components, visible
 * datoms, the unique index and text documents. Shared by `state.ts` and the stage files; not part
 * of the public surface.
 */
import type * as Y from 'yjs';
import type { GlobalId } from './types.js';
import type { MergeSchema } from './schema.js';
import type { VisibleDatom } from './types.js';
import { OpTable, idCmp, type OpRec } from './merge-ops.js';

export class EntRec {
  /** add/retract/text ops on e, in the order they arrived */
  ops: OpRec[] = [];
  /** retractEntity ops on e (null when none) */
  tombs: OpRec[] | null = null;
  /** stage-1 tombstone ('' = none) */
  tomb1: string = NONE;
  /** current claims: `a\u0000vkey` */
  claims: Set<string> = EMPTY_CLAIMS;
  /** the op with the least id held on this entity (null when none) */
  min: OpRec | null = null;
  constructor(readonly id: GlobalId) {}

  /** The ops on e grouped by attribute, attributes in order of their first op. */
  byAttr(): Map<string, OpRec[]> {
    const out = new Map<string, OpRec[]>();
    for (const op of this.ops) {
      const l = out.get(op.a!);
      if (l === undefined) out.set(op.a!, [op]);
      else l.push(op);
    }
    return out;
  }

  /** Recomputes {@link min} from the ops held. */
  resetMin(): void {
    let m: OpRec | null = null;
    for (const o of this.ops) if (m === null || idCmp(o, m) < 0) m = o;
    if (this.tombs) for (const o of this.tombs) if (m === null || idCmp(o, m) < 0) m = o;
    this.min = m;
  }
}

/**
 * What is kept per visible datom of a representative: its attribute, shown value and deciding
 * stamp. Usually the deciding op record itself (no record of its own); a `{a, v, tx}` record when
 * the shown value differs from the op's (a ref mapped to a representative, a text's string).
 */
export type Shown = Pick<VisibleDatom, 'a' | 'v' | 'tx'>;

export const SEP = '\u0000';
/** Shared empty claim set (never mutated: claims are replaced, not edited). */
export const EMPTY_CLAIMS: Set<string> = new Set();
export const NONE = '';

export function maxStr(a: string, b: string): string {
  return a > b ? a : b;
}

export class MergeData {
  readonly ops = new OpTable();
  readonly ents = new Map<GlobalId, EntRec>();
  /** target → add ops whose value refs it */
  readonly refsIn = new Map<GlobalId, Set<OpRec>>();
  readonly claimIndex = new Map<string, Set<GlobalId>>();
  /** member → representative, only for members of multi-entity components */
  readonly repOf = new Map<GlobalId, GlobalId>();
  /** representative → members (≥ 2), only for multi-entity components */
  readonly membersOf = new Map<GlobalId, GlobalId[]>();
  /** representative → its visible datoms (key of each: `attrValueKey(a, v)`, unique per rep) */
  readonly visible = new Map<GlobalId, Shown[]>();
  /** Whether any attribute is a component / identity attribute (fast paths when not). */
  readonly hasComponents: boolean;
  readonly identityAttrs: ReadonlySet<string>;
  /** `a\0vkey` → representative, for unique attributes (identity and value) */
  readonly uniqueIdx = new Map<string, GlobalId>();
  readonly texts = new Map<string, { doc: Y.Doc; applied: Set<string> }>();

  constructor(readonly schema: MergeSchema) {
    let comp = false;
    for (const [, a] of schema.entries()) if (a.component) comp = true;
    this.hasComponents = comp;
    this.identityAttrs = new Set(schema.identityAttrs());
  }

  /** The representative of `e` (itself unless merged by the unique-identity rule). */
  rep(e: GlobalId): GlobalId {
    return this.repOf.get(e) ?? e;
  }

  ent(e: GlobalId): EntRec {
    let r = this.ents.get(e);
    if (!r) {
      r = new EntRec(e);
      this.ents.set(e, r);
    }
    return r;
  }

  /** The members of `e`'s identity component (`[e]` when alone). */
  componentOf(e: GlobalId): readonly GlobalId[] {
    return this.membersOf.get(this.rep(e)) ?? [e];
  }

  finalTomb(r: GlobalId): string {
    const ms = this.membersOf.get(r);
    if (!ms) return this.ents.get(r)?.tomb1 ?? NONE;
    let t = NONE;
    for (const m of ms) t = maxStr(t, this.ents.get(m)!.tomb1);
    return t;
  }
}
