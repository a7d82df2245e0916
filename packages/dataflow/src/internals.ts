/**
 * The engine's building blocks, for packages that embed the engine without a `Conn` (the server's
 * permission scopes) and for tests and diagnostics. Not a stable API.
 */
export { Engine } from './engine.js';
export { BaseRel, Bases, type DatomSource } from './bases.js';
export { Compiler, type CompiledQuery, type CompileEnv } from './compile/compile.js';
export type { LocalRel } from './compile/components.js';
export { Arrangement, type DeltaEntry, type Tuple } from './arrangement/arrangement.js';
export { RuleOperator } from './operators/rule.js';
export { RecursiveOperator } from './operators/recursive.js';
export { OutputOperator, type FindCol, type RowDiff } from './operators/reduce.js';
export type { Operator } from './operators/operator.js';
export { makeAggState, type AggState } from './aggregate/aggregates.js';
export { planRule, type Plan, type RunCtx } from './eval/plan.js';
export type { RuleIR, Step, Term, RelSource } from './ir/types.js';
