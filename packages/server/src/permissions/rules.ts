/**
 * Permission rules: Datalog rules (EDN text or parsed data, the `%` input of a query) given to
 * `createServer({ permissions })` or `dataloom serve --permissions rules.edn`. The heads the server
 * asks about:
 *
 * - `(can-read ?user ?e)`: the user may read every datom of entity `?e`;
 * - `(can-read-attr ?user ?e ?a)`: the user may read the datoms of attribute `?a` (a keyword, or a
 *   string naming it) of `?e` — in addition to the entities `can-read` gives;
 * - `(can-write ?user ?e)`: the user may change entity `?e` (judged on the database after the
 *   transaction; a branch reading `$before` sees the database before it);
 * - `(can-see-draft ?user ?draft)` / `(can-edit-draft ?user ?draft)` (default: as seeing): who
 *   sees and edits a private draft (one whose draft entity `?draft` has a `:draft/author`; drafts
 *   without one stay open to everyone), instead of the built-in author-and-collaborators rule.
 *
 * `?user` is bound to the identity `authenticate` returned (a string or number, or its `id`).
 * Other rules are helpers the heads call; rules may recurse. Without a `can-read`/`can-read-attr`
 * rule every user reads everything; without `can-write` writes are not checked by rules.
 */
import { DataloomError, List, Sym, parseEdn, type EdnValue } from '@dataloom/core';
import { parseRules, type Rules } from '@dataloom/query';

export const HEADS = { read: 'can-read', readAttr: 'can-read-attr', write: 'can-write', seeDraft: 'can-see-draft', editDraft: 'can-edit-draft' } as const;
const ARITY: Record<string, number> = { [HEADS.read]: 2, [HEADS.readAttr]: 3, [HEADS.write]: 2, [HEADS.seeDraft]: 2, [HEADS.editDraft]: 2 };

/** Parsed, checked permission rules. */
export interface Permissions {
  /** The rules as data (what queries take as `%`). */
  readonly data: EdnValue;
  readonly parsed: Rules;
  readonly read: boolean;
  readonly readAttr: boolean;
  readonly write: boolean;
  readonly seeDraft: boolean;
  readonly editDraft: boolean;
  /** Whether any rule reads `$before`. */
  readonly before: boolean;
}

function bad(message: string, data: Record<string, unknown> = {}): never {
  throw new DataloomError('server/permissions', message, data);
}

/** Reads and checks permission rules (`server/permissions` with what is wrong and where). */
export function parsePermissions(input: unknown): Permissions {
  let data: EdnValue;
  if (typeof input === 'string') {
    try {
      data = parseEdn(input);
    } catch (e) {
      bad(`permission rules are not valid EDN: ${(e as Error).message}`);
    }
  } else data = input as EdnValue;
  let parsed: Rules;
  try {
    parsed = parseRules(data);
  } catch (e) {
    const err = e as { code?: string; message: string };
    bad(`permission rules do not parse (${err.code ?? 'error'}): ${err.message}`);
  }
  for (const [head, arity] of Object.entries(ARITY)) {
    const r = parsed.get(head);
    if (!r) continue;
    const b = r.branches[0]!;
    const n = b.vars.required.length + b.vars.free.length;
    if (n !== arity) bad(`(${head} …) takes ${arity} arguments, the rules give it ${n}`, { rule: head, arity: n });
  }
  const has = (h: string) => parsed.has(h);
  if (!Object.values(HEADS).some(has)) {
    bad(`permission rules define none of (${HEADS.read} ?user ?e), (${HEADS.readAttr} ?user ?e ?a), (${HEADS.write} ?user ?e), (${HEADS.seeDraft} ?user ?draft), (${HEADS.editDraft} ?user ?draft)`, { rules: [...parsed.keys()] });
  }
  return { data, parsed, read: has(HEADS.read), readAttr: has(HEADS.readAttr), write: has(HEADS.write), seeDraft: has(HEADS.seeDraft), editDraft: has(HEADS.editDraft), before: mentions(data, '$before') };
}

/** Whether the symbol `name` occurs anywhere in `x`. */
function mentions(x: unknown, name: string): boolean {
  if (x instanceof Sym) return x.fqn === name;
  if (x instanceof List) return x.items.some((i) => mentions(i, name));
  if (Array.isArray(x)) return x.some((i) => mentions(i, name));
  return false;
}
