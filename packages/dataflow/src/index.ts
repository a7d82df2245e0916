/**
 * `@dataloom/dataflow` — incremental Datalog: register any query of the language and receive its
 * result, then only its differences after every transaction.
 *
 * @packageDocumentation
 */
export { createConn, Conn, type ConnOptions, type RuleContext } from './conn.js';
export { View, type Diff } from './view.js';
export { Engine, type DatomSource } from './engine.js';
export { Compiler, type CompiledQuery, type CompileEnv } from './compile/compile.js';
