import { describe, expect, it } from 'vitest';
import { createDb, DataloomError, kw, parseEdn } from '@dataloom/core';
import { q } from './q.js';

const db = createDb('{:friend {:db/valueType :db.type/ref} :email {:db/unique :db.unique/identity}}').with(
  '[{:db/id 1 :name "Ivan" :age 15 :email "i@x" :friend 2} {:db/id 2 :name "Petr" :age 37}]',
).dbAfter;

function err(f: () => unknown): DataloomError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataloomError);
    return e as DataloomError;
  }
  throw new Error('expected an error');
}

describe('q: typed errors carry a stable code and the offending form', () => {
  it('unknown clause', () => {
    const e = err(() => q('[:find ?e :where [?e :name] "oops"]', db));
    expect(e.code).toBe('query/parse');
    expect(e.data.form).toBe('oops');
  });
  it('unbound variable in a predicate', () => {
    const e = err(() => q('[:find ?e :where [?e :age ?a] [(> ?b 1)]]', db));
    expect(e.code).toBe('query/unbound');
    expect(e.message).toContain('Insufficient bindings');
    expect(e.data.form).toContain('(> ?b 1)');
  });
  it('unbound is reported before an unknown function', () => {
    expect(err(() => q('[:find ?e :where [?e :age ?a] [(frob ?b)]]', db)).code).toBe('query/unbound');
    expect(err(() => q('[:find ?e :where [?e :age ?a] [(frob ?a)]]', db)).code).toBe('query/unknown-function');
  });
  it('or branches with different variables', () => {
    const e = err(() => q('[:find ?e :where (or [?e :name ?n] [?e :age ?a])]', db));
    expect(e.code).toBe('query/or-vars');
  });
  it('wrong number of inputs', () => {
    expect(err(() => q('[:find ?e :in $ ?n :where [?e :name ?n]]', db)).code).toBe('query/inputs');
    expect(err(() => q('[:find ?e :where [?e :name]]')).code).toBe('query/inputs');
    expect(err(() => q('[:find ?x :where [(ground 1) ?x]]', db)).code).toBe('query/inputs');
  });
  it('unknown rule, missing %', () => {
    expect(err(() => q('[:find ?e :in $ % :where (nope ?e)]', db, '[[(r ?x) [?x :a]]]')).code).toBe('query/unknown-rule');
    expect(err(() => q('[:find ?e :where (nope ?e)]', db)).code).toBe('query/parse');
  });
  it('unknown find variables, malformed EDN', () => {
    expect(err(() => q('[:find ?x :where [?e :name]]', db)).code).toBe('query/unknown-vars');
    expect(err(() => q('[:find ?x :where [?e :name', db)).code).toBe('edn/eof');
  });
  it('input that does not fit its binding', () => {
    expect(err(() => q('[:find ?x :in [?x ...]]', 5)).code).toBe('query/binding');
    expect(err(() => q('[:find ?x :in [?x ?y]]', [1])).code).toBe('query/binding');
  });
  it('a lookup ref that matches nothing throws', () => {
    expect(() => q('[:find ?a :where [[:email "nobody"] :age ?a]]', db)).toThrow(DataloomError);
    expect(() => q('[:find ?a :in $ ?e :where [?e :age ?a]]', db, [kw('email'), 'nobody'])).toThrow(DataloomError);
  });
});

describe('q: result shapes (docs/CONTRACTS.md)', () => {
  it('relation → Set; :with/aggregates/pull → Array; scalar, coll, tuple', () => {
    expect(q('[:find ?n :where [_ :name ?n]]', db)).toEqual(new Set([['Ivan'], ['Petr']]));
    expect(q('[:find ?a :with ?e :where [?e :age ?a]]', db)).toBeInstanceOf(Array);
    expect(q('[:find (count ?e) :where [?e :age]]', db)).toEqual([[2]]);
    expect(q('[:find (count ?e) :where [?e :nope]]', db)).toEqual([]);
    expect(q('[:find (count ?e) . :where [?e :nope]]', db)).toBe(null);
    expect(q('[:find ?n . :where [1 :name ?n]]', db)).toBe('Ivan');
    expect(q('[:find [?n ...] :where [1 :name ?n]]', db)).toEqual(['Ivan']);
    expect(q('[:find [?n ?a] :where [1 :name ?n] [1 :age ?a]]', db)).toEqual(['Ivan', 15]);
    expect(q('[:find ?n :keys name :where [1 :name ?n]]', db)).toEqual(new Set([new Map([[kw('name'), 'Ivan']])]));
  });
  it('lookup refs given as inputs stay lookup refs in the output', () => {
    const ref = [kw('email'), 'i@x'];
    expect(q('[:find ?e ?a :in $ ?e :where [?e :age ?a]]', db, ref)).toEqual(new Set([[ref, 15]]));
  });
  it('queries and inputs as EDN strings or data', () => {
    expect(q(parseEdn('[:find ?n :in $ [?a ...] :where [?e :age ?a] [?e :name ?n]]'), db, '[15 37]')).toEqual(new Set([['Ivan'], ['Petr']]));
    expect(q({ find: parseEdn('[?n]'), where: parseEdn('[[?e "name" ?n] [?e :age 15]]') }, db)).toEqual(new Set([['Ivan']]));
  });
  it('a nil function result drops the row, false is kept; a bound result filters', () => {
    expect(q('[:find ?e ?x :where [?e :age ?a] [(get {15 false} ?a) ?x]]', db)).toEqual(new Set([[1, false]]));
    expect(q('[:find ?e :where [?e :age ?a] [(+ 22 15) ?a]]', db)).toEqual(new Set([[2]]));
  });
});
