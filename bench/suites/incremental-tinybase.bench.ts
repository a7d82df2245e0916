/**
 * Side by side with TinyBase's incremental queries (issue 3): the same one-cell change over n rows,
 * timed from the write to the query listener having run.
 *
 * | row               | Dataloom query (registered, subscribed)                    | TinyBase query definition                       |
 * |-------------------|------------------------------------------------------------|-------------------------------------------------|
 * | filter            | `[:find ?e ?a :where [?e :age ?a] [(> ?a 50)]]`             | `select('age'); where(age > 50)`                 |
 * | group-count       | `[:find ?s (count ?e) :where [?e :sex ?s]]`                 | `select('sex'); select('id'); group('id','count')` |
 *
 * Each call changes one person's age (filter) or sex (group-count) to a value different from the
 * current one (both sides read the current cell first); Dataloom's time includes the transaction
 * itself (`conn.transact` → engine → subscriber), TinyBase's is `setCell` → listener.
 */
import { kw } from '@dataloom/core';
import { createConn } from '@dataloom/dataflow';
import { createQueries, createStore } from 'tinybase';
import type { RowSpec, SuiteOptions } from '../harness/types.js';
import { mulberry32 } from '../data/rng.js';

export const suite = 'incremental-tinybase';
export const peer = 'tinybase';

const ADD = kw('db/add');
const AGE = kw('age');
const SEX = kw('sex');
const ID = kw('db/id');

interface Row {
  age: number;
  sex: string;
}

function rowsFor(n: number): Row[] {
  const rnd = mulberry32(n + 17);
  return Array.from({ length: n }, () => ({ age: Math.floor(rnd() * 100), sex: rnd() < 0.5 ? 'male' : 'female' }));
}

const pick = (n: number, i: number) => (i * 7919) % n;
/** Every call changes the cell: the new value is derived from the current one (read on both sides). */
const nextAge = (cur: unknown, i: number) => ((cur as number) + 1 + (i % 50)) % 100;
const otherSex = (cur: unknown) => (cur === 'male' ? 'female' : 'male');

function dataloom(n: number, query: string, mutate: (e: number, i: number, cur: (e: number, a: typeof AGE) => unknown) => unknown[]): () => () => unknown {
  return () => {
    const conn = createConn();
    const data = rowsFor(n);
    conn.transact(data.map((r, i) => new Map<unknown, unknown>([[ID, i + 1], [AGE, r.age], [SEX, r.sex]])));
    const view = conn.register('q', query);
    let seen = 0;
    view.subscribe((d) => {
      seen += d.length;
    });
    let i = 0;
    return () => {
      conn.transact([mutate(pick(n, i) + 1, i, (e, a) => conn.db().value(e, a))]);
      i++;
      return seen;
    };
  };
}

function tinybase(n: number, kind: 'filter' | 'group'): () => () => unknown {
  return () => {
    const data = rowsFor(n);
    const table: Record<string, Record<string, string | number>> = {};
    data.forEach((r, i) => {
      table[String(i + 1)] = { ...r, id: String(i + 1) };
    });
    const store = createStore().setTable('people', table);
    const queries = createQueries(store);
    if (kind === 'filter') {
      queries.setQueryDefinition('q', 'people', ({ select, where }) => {
        select('age');
        where((getCell) => (getCell('age') as number) > 50);
      });
    } else {
      queries.setQueryDefinition('q', 'people', ({ select, group }) => {
        select('sex');
        select('id');
        group('id', 'count').as('n');
      });
    }
    let seen = 0;
    queries.addResultTableListener('q', () => {
      seen++;
    });
    let i = 0;
    return () => {
      const row = String(pick(n, i) + 1);
      if (kind === 'filter') store.setCell('people', row, 'age', nextAge(store.getCell('people', row, 'age'), i));
      else store.setCell('people', row, 'sex', otherSex(store.getCell('people', row, 'sex')));
      i++;
      return seen;
    };
  };
}

export function rows(opts: SuiteOptions): RowSpec[] {
  const out: RowSpec[] = [];
  for (const n of opts.sizes) {
    out.push({
      name: 'filter',
      n,
      dataloom: dataloom(n, '[:find ?e ?a :where [?e :age ?a] [(> ?a 50)]]', (e, i, cur) => [ADD, e, AGE, nextAge(cur(e, AGE), i)]),
      peer: tinybase(n, 'filter'),
    });
    out.push({
      name: 'group-count',
      n,
      dataloom: dataloom(n, '[:find ?s (count ?e) :where [?e :sex ?s]]', (e, i, cur) => [ADD, e, SEX, otherSex(cur(e, SEX))]),
      peer: tinybase(n, 'group'),
    });
  }
  return out;
}
