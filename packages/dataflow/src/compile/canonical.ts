/**
 * Canonical text of a component's rules, used as the sharing key: two registrations that define
 * the same relations over the same inputs get the same key and share one operator.
 * External relations print as their ids; members of the component as their position.
 */
import type { BindPat, RelSource, RuleIR, Step, Term } from '../ir/types.js';
import { valueKey } from '@dataloom/core';

const opaque = new WeakMap<object, number>();
let opaqueCount = 0;

function constKey(v: unknown): string {
  if (typeof v === 'function' || (typeof v === 'object' && v !== null && !(Array.isArray(v)) && Object.getPrototypeOf(v) === Object.prototype)) {
    let id = opaque.get(v as object);
    if (id === undefined) opaque.set(v as object, (id = ++opaqueCount));
    return `#${id}`;
  }
  return String(valueKey(v));
}

function termKey(t: Term | null): string {
  if (t === null) return '_';
  return t.kind === 'var' ? `v${t.slot}` : `c${constKey(t.value)}`;
}

function patKey(p: BindPat): string {
  switch (p.k) {
    case 'scalar':
      return `v${p.slot}`;
    case 'ignore':
      return '_';
    case 'tuple':
      return `[${p.elems.map(patKey).join(' ')}]`;
    case 'coll':
      return `[${patKey(p.elem)} ...]`;
  }
}

export function ruleKey(r: RuleIR, ref: (s: RelSource) => string): string {
  const steps = r.body.map((s: Step) => {
    switch (s.kind) {
      case 'atom':
        return `${s.neg ? '!' : ''}${ref(s.src)}(${s.args.map(termKey).join(' ')})`;
      case 'pred':
        return `?${s.fn.kind === 'builtin' ? s.fn.name : 'v' + s.fn.slot}(${s.args.map(termKey).join(' ')})`;
      case 'fn':
        return `=${s.fn.kind === 'builtin' ? s.fn.name : 'v' + s.fn.slot}(${s.args.map(termKey).join(' ')})${patKey(s.out)}`;
      case 'get-else':
        return `ge:${ref(s.src)}(${termKey(s.e)} ${termKey(s.dflt)})v${s.out}`;
      case 'get-some':
        return `gs:${s.srcs.map(ref).join('/')}(${termKey(s.e)})${patKey(s.out)}`;
      case 'missing':
        return `miss:${ref(s.src)}(${termKey(s.e)})`;
    }
  });
  return `${r.headArgs.map(termKey).join(' ')}<-${steps.join(',')}`;
}
