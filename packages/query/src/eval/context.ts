/**
 * The evaluation context shared by the body evaluator, the planner and the rule engine for one
 * `q` call.
 */
import type { RuleCall, Rules, SrcVar } from '../ast.js';
import type { Relation } from './relation.js';
import type { Source } from './pattern.js';

export interface Ctx {
  /** Data sources by name (`$`, `$2`, …) as the query's inputs: databases or collections of tuples. */
  readonly sources: ReadonlyMap<string, Source>;
  /**
   * The current default source, read by clauses that name no source: the query's `$`, or the
   * source of the enclosing `($2 not …)` / `($2 or …)` / `($2 rule …)`.
   */
  readonly implicit: Source | undefined;
  /** The `%` rules, or null. */
  readonly rules: Rules | null;
  /**
   * Written-order mode: clauses run exactly in the order written, stopping at the first empty
   * relation, like DataScript. Used when static analysis finds a clause that may throw
   * (unbound variable, unknown function or rule), so errors are raised in exactly the cases
   * DataScript raises them. Otherwise the planner reorders freely.
   */
  readonly ordered: boolean;
  /**
   * Stable plans: the clause order chosen for a body (per bound-variable set) is reused on every
   * later evaluation. The rule engine needs this: semi-naive evaluation reads a recursive call's
   * new answers from the table its adornment selects, so the adornment must not change between
   * rounds.
   */
  readonly stable?: boolean;
  /**
   * In a rule body called with constant arguments: the head variables at those positions.
   * DataScript substitutes the constants into the body, so for a plain `not` they are not
   * variables (a `not` left with no bound variable raises "Insufficient bindings").
   */
  readonly constVars?: ReadonlySet<string>;
  /** Planner estimate cache (counts per attribute / attribute-value). */
  readonly estimates: Map<string, number>;
  /**
   * Evaluates a rule call against `rel` (the rule engine's entry, `eval/rules.ts`; `q` wires it in,
   * so the body evaluator and the rule engine do not import each other).
   */
  readonly callRule: (ctx: Ctx, c: RuleCall, rel: Relation, before: ReadonlySet<string> | null) => Relation;
  /** Per-`q` mutable state shared by derived contexts: the rule engine (created on first call). */
  readonly state: { rulesEngine?: unknown; plans?: unknown };
}

/** A context whose default source is `src` (for `($2 not …)`, `($2 or …)`, `($2 rule …)`). */
export function withDefaultSource(ctx: Ctx, src: SrcVar): Ctx {
  if (src.name === '$' && !src.explicit) return ctx;
  const s = ctx.sources.get(src.name);
  return s === ctx.implicit ? ctx : { ...ctx, implicit: s };
}

/** The source a clause reads: its named source, or the current default when it names none. */
export function sourceOf(ctx: Ctx, src: SrcVar): Source | undefined {
  return src.name === '$' && !src.explicit ? ctx.implicit : ctx.sources.get(src.name);
}
