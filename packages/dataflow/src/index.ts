/**
 * `@dataloom/dataflow` — incremental Datalog: register any query of the language and receive its
 * result, then only its differences after every transaction.
 *
 * ```ts
 * const conn = createConn(schema);
 * const view = conn.register('chic/territory-earnings', '[:find ?t (sum ?e) :with ?x :where …]');
 * view.result();                       // like q()
 * view.subscribe((diffs) => …);        // [[row, tx, +1|-1], …] once per transaction
 * conn.transact([[':db/add', 10, ':thug/earnings', 550]]);
 * view.close();
 * ```
 *
 * The engine's building blocks (operators, compiler, arrangements) are in `./internals.ts`.
 *
 * @packageDocumentation
 */
export { createConn, Conn, type ConnOptions, type RuleContext } from './conn.js';
export { View } from './view.js';
export { OperatorProfile, type OperatorTime } from './profile.js';
