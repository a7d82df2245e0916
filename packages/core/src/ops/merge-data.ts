/**
 * The records a {@link MergeState} keeps (see `state.ts` for the rules): ops, per-entity records,
 * ref and claim indexes, identity components, visible datoms, the unique index and text
 * documents. Shared by `state.ts` and the stage files; not part of the public surface.
 */
import type * as Y from 'yjs';
import type { GlobalId, Op } from './types.js';
import type { MergeSchema } from './schema.js';
import type { VisibleDatom } from './types.js';

export interface EntRec {
  id: GlobalId;
  /** attribute → ops (add/retract/text) on (e, a) */
  attrs: Map<string, Op[]>;
  /** retractEntity ops on e */
  tombs: Op[];
  /** stage-1 tombstone ('' = none) */
  tomb1: string;
  /** current claims: `a\u0000vkey` */
  claims: Set<string>;
  /** least op id held on this entity ('' when none) */
  minId: string;
}

/**
 * What is kept per visible datom of a representative: its attribute, shown value and deciding
 * stamp. Usually the deciding {@link Op} itself (no record of its own); a `{a, v, tx}` record when
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
  readonly ops = new Map<string, Op>();
  readonly ents = new Map<GlobalId, EntRec>();
  /** target → ids of add ops whose value refs it */
  readonly refsIn = new Map<GlobalId, Set<string>>();
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
      r = { id: e, attrs: new Map(), tombs: [], tomb1: NONE, claims: EMPTY_CLAIMS, minId: NONE };
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
