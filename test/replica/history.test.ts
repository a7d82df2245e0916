/**
 * The history database of the client (`historyDb()`): two clients make random transactions and
 * exchange envelopes (so remote merges displace values); on each, the 5-term history query returns
 * exactly the history rows, and folding them in order gives the current database.
 * `FUZZ_SEED=n` replays one case, `FUZZ_RUNS` widens the hunt.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { kw, type TxEnvelope } from '@dataloom/core';
import { createClient, type Client } from '@dataloom/client';
import { serviceOf, type ClientService } from '../../packages/client/src/internals.js';
import { mulberry32, pick, seeds } from '../gen/prng.js';

const schema = {
  'p/name': {},
  'p/email': { ':db/unique': ':db.unique/identity' },
  'p/tags': { ':db/cardinality': ':db.cardinality/many' },
  'p/best': { ':db/valueType': ':db.type/ref' },
};

let n = 0;

/** An in-process client and its service (the test reaches the replica to exchange envelopes). */
function open(storage: 'memory' | 'indexeddb'): { client: Client; host: ClientService } {
  const client = createClient({ name: `history-${storage}-${n++}`, schema, storage, tabs: false });
  return {
    client,
    get host() {
      const s = serviceOf(client);
      if (!s) throw new Error('await client.ready first: the in-process service loads on demand');
      return s;
    },
  };
}

const key = (r: unknown[]) => JSON.stringify(r.map((x) => (x && typeof x === 'object' && 'fqn' in x ? ':' + (x as { fqn: string }).fqn : x)));

for (const storage of ['memory', 'indexeddb'] as const) {
  describe(`historyDb over random merges (${storage})`, () => {
    for (const seed of seeds(4)) {
      it(`seed ${seed}`, async () => {
        try {
          const rnd = mulberry32(seed);
          const a = open(storage);
          const b = open(storage);
          await a.client.ready;
          await b.client.ready;
          const envs: Array<[ClientService, TxEnvelope]> = [];
          for (let i = 0; i < 30; i++) {
            const side = rnd() < 0.5 ? a : b;
            const who = pick(rnd, ['u1@x', 'u2@x', 'u3@x']);
            const r = rnd();
            const tx =
              r < 0.5
                ? [{ 'p/email': who, 'p/name': pick(rnd, ['ann', 'bob', 'cid']) }]
                : r < 0.7
                  ? [{ 'p/email': who, 'p/tags': [pick(rnd, ['t1', 't2', 't3'])] }]
                  : r < 0.85
                    ? [[':db/retract', ['p/email', who], 'p/tags', pick(rnd, ['t1', 't2', 't3'])]]
                    : [{ 'p/email': who, 'p/best': { 'p/email': pick(rnd, ['u1@x', 'u2@x']) } }];
            try {
              const res = await side.host.replica.localTransact(tx);
              envs.push([side.host, res.envelope]);
            } catch {
              /* e.g. a retraction through a lookup ref that does not resolve yet: nothing changed */
            }
            if (rnd() < 0.3) {
              // deliver a random earlier envelope to the other side (out of order, duplicates allowed)
              const [from, env] = pick(rnd, envs);
              const to = from === a.host ? b.host : a.host;
              await to.replica.applyRemote([env], null);
            }
          }
          for (const side of [a, b]) {
            const rows = await side.client.history();
            const got = (await side.client.historyDb().q('[:find ?e ?a ?v ?tx ?added :where [?e ?a ?v ?tx ?added]]')) as Set<unknown[]>;
            expect(new Set([...got].map(key))).toEqual(new Set(rows.map(key)));
            // folding the history in order gives the current datoms
            const live = new Map<string, unknown[]>();
            for (const [e, at, v, , added] of rows) {
              const k = key([e, at, v]);
              if (added) live.set(k, [e, at, v]);
              else live.delete(k);
            }
            const now = (await side.client.q('[:find ?e ?a ?v :where [?e ?a ?v]]')) as Set<unknown[]>;
            expect(new Set([...now].map(key))).toEqual(new Set(live.keys()));
            // every retraction of a name follows an assertion of it at an earlier or equal stamp
            const names = (await side.client.historyDb().q('[:find ?e ?v ?t1 ?t2 :where [?e :p/name ?v ?t2 false] [?e :p/name ?v ?t1 true] [(<= ?t1 ?t2)]]')) as Set<unknown[]>;
            const retracts = rows.filter((r) => r[1] === kw('p/name') && !r[4]);
            expect(new Set([...names].map((r) => key([r[0], r[1], r[3]])))).toEqual(new Set(retracts.map((r) => key([r[0], r[2], r[3]]))));
          }
          await a.client.close();
          await b.client.close();
        } catch (e) {
          console.error(`replay with FUZZ_SEED=${seed}`);
          throw e;
        }
      });
    }
  });
}
