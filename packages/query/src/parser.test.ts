import { describe, expect, it } from 'vitest';
import { kw, parseEdn } from '@dataloom/core';
import { parseQuery, parseRules } from './parser.js';

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as { code: string }).code;
  }
  return 'no error';
};

describe('parseQuery', () => {
  it('parses find specs', () => {
    expect(parseQuery('[:find ?e ?n :where [?e :name ?n]]').find.kind).toBe('rel');
    expect(parseQuery('[:find ?e . :where [?e :name ?n]]').find.kind).toBe('scalar');
    expect(parseQuery('[:find [?e ...] :where [?e :name ?n]]').find.kind).toBe('coll');
    expect(parseQuery('[:find [?e ?n] :where [?e :name ?n]]').find.kind).toBe('tuple');
    const q = parseQuery('[:find (pull ?e [*]) (count ?n) (max 3 ?n) (aggregate ?f ?n) :in $ ?f :where [?e :name ?n]]');
    expect(q.find.elements.map((e) => e.kind)).toEqual(['pull', 'aggregate', 'aggregate', 'aggregate']);
  });

  it('defaults :in to [$] only when :where has a data pattern', () => {
    expect(parseQuery('[:find ?e :where [?e :name]]').in).toEqual([{ kind: 'src', name: '$' }]);
    expect(parseQuery('[:find ?x :where [(ground 1) ?x]]').in).toEqual([]);
    expect(parseQuery('[:find ?x :where [(ground 1) ?x] (not [?x :a 1])]').in).toHaveLength(1);
  });

  it('parses :in bindings', () => {
    const q = parseQuery('[:find ?a :in $ $2 % ?a [?b ...] [?c ?d] [[?e _]] :where [?a]]');
    expect(q.in.map((b) => b.kind)).toEqual(['src', 'src', 'rules', 'bind-scalar', 'bind-coll', 'bind-tuple', 'bind-coll']);
  });

  it('parses clauses', () => {
    const q = parseQuery(`[:find ?e :in $ % :where [?e "name" ?n] [(> ?n 1)] [(str ?n) ?s]
      (not [?e :age 1]) (not-join [?e] [?e :x ?y]) (or [?e :a 1] (and [?e :b 2] [?e :c 3]))
      (or-join [[?e] ?z] [?e :d ?z]) (rule ?e _ 1) [$ ?e :x]]`);
    expect(q.where.map((c) => c.kind)).toEqual(['pattern', 'pred', 'fn', 'not', 'not', 'or', 'or', 'rule-call', 'pattern']);
    const p = q.where[0]!;
    expect(p.kind === 'pattern' && p.terms[1]).toEqual({ kind: 'const', value: kw('name') });
  });

  it('accepts map and JS-object forms', () => {
    expect(parseQuery(parseEdn('{:find [?e] :where [[?e :a]]}')).find.kind).toBe('rel');
    expect(parseQuery({ find: parseEdn('[?e]'), where: parseEdn('[[?e :a]]') }).find.kind).toBe('rel');
  });

  it('rejects what DataScript rejects', () => {
    expect(code(() => parseQuery('[:find ?y :where [?e :name ?x]]'))).toBe('query/unknown-vars');
    expect(code(() => parseQuery('[:find ?x :with ?x :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :in $ ?x ?x :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :keys a b :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x . :keys a :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :where (or [?e :name ?x] [?e :age ?y])]'))).toBe('query/or-vars');
    expect(code(() => parseQuery('[:find ?x :where [?e :name ?x] (foo ?x)]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :where [?e :name ?x] []]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x ... :where [?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :where [$2 ?e :name ?x]]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?e :where [?e :age ?x] (not)]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?e :where [?e :age ?x] (not-join [] [?e :age 15])]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?e :where [?e :age ?x] (and [?e :age 15])]'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?e ?x :where [?e :age ?x] [(+ ?x 16) 53]]'))).toBe('query/parse');
    expect(code(() => parseQuery('{:find ?x :where [[?e :name ?x]]}'))).toBe('query/parse');
    expect(code(() => parseQuery('[:find ?x :where [?e :name ?x'))).toBe('edn/eof');
  });
});

describe('parseRules', () => {
  it('groups branches and validates', () => {
    const r = parseRules('[[(r ?e) [?e :age 15]] [(r ?e) [?e :age 37]] [(q [?a] ?b) [?a :f ?b]]]');
    expect(r.get('r')!.branches).toHaveLength(2);
    expect(r.get('q')!.branches[0]!.vars.required.map((v) => v.name)).toEqual(['?a']);
    expect(code(() => parseRules('[[(r ?e) [?e :age 15]] [(r ?e ?x) [?e :age 15]]]'))).toBe('query/parse');
    expect(code(() => parseRules('[[(r ?e)]]'))).toBe('query/parse');
    expect(code(() => parseRules('[[(r) [?e :a 1]]]'))).toBe('query/parse');
    expect(code(() => parseRules('[[(r ?e ?e) [?e :a 1]]]'))).toBe('query/parse');
    expect(code(() => parseRules('[[r ?e [?e :a 1]]]'))).toBe('query/parse');
    expect(code(() => parseRules('[[(r 1) [?e :a 1]]]'))).toBe('query/parse');
  });
});
