/**
 * The app's own permission rules over hostile data, against the real server and real clients: a
 * rule whose built-in throws on a value one client wrote (`re-find` on a number, `compare` across types)
 * must not stop the engine every connection of the node shares, nor let an error name a value the
 * writer may not read. A throwing built-in makes that binding not match (as for scope queries);
 * the server reports it once through `onError` with the rule and function.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError } from '@dataloom/core';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = { ':doc/title': {}, ':doc/owner': {}, ':doc/tag': {}, ':doc/rank': {}, ':limit/max': {} };
const TITLES = '[:find [?t ...] :where [_ :doc/title ?t]]';

const rig = testRig('perm-rule-errors', { schema });
const client = (url: string, user: string) => rig.userClient(url, user);
const refusal = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as DataloomError);
const ruleErrors = (errors: unknown[]) => errors.filter((e) => e instanceof DataloomError && e.data?.['rule'] !== undefined).map((e) => (e as DataloomError).data);

describe('permission rules whose functions throw on the data', () => {
  it('a read rule throwing on a value one client wrote stops no one; it is reported once', async () => {
    const errors: unknown[] = [];
    const RULES = `
      [[(can-read ?u ?e) [?e :doc/owner ?u]]
       [(can-read ?u ?e) [?e :doc/tag ?t] [(re-pattern "^pub") ?re] [(re-find ?re ?t)]]]`;
    const s = await rig.server({ permissions: RULES, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const mallory = client(s.url, 'mallory');
    const r0 = await alice.c.transact([{ ':doc/title': 'for bob', ':doc/owner': 'bob' }]);
    await alice.c.confirmed(r0.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).join() === 'for bob', 'bob reads his doc');
    // a tag as a number: re-find throws on it (`q` would throw)
    const w = await mallory.c.transact([{ ':doc/title': 'hostile', ':doc/owner': 'mallory', ':doc/tag': 42 }, { ':doc/title': 'hostile 2', ':doc/owner': 'mallory', ':doc/tag': 43 }]);
    await mallory.c.confirmed(w.tx); // the writer's transaction commits (read rules judge no write)
    // the engine goes on: bob receives what is his and what is public after it
    const r1 = await alice.c.transact([{ ':doc/title': 'for bob 2', ':doc/owner': 'bob' }, { ':doc/title': 'public', ':doc/owner': 'alice', ':doc/tag': 'pub-1' }]);
    await alice.c.confirmed(r1.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === 'for bob,for bob 2,public', 'bob keeps receiving his data');
    await until(async () => ((await mallory.c.q(TITLES)) as string[]).slice().sort().join() === 'hostile,hostile 2,public', 'mallory reads her own docs');
    expect(bob.tap.frames.some((f) => f.includes('hostile'))).toBe(false);
    expect(ruleErrors(errors)).toEqual([{ rule: 'can-read', fn: 're-find' }]);
  });

  it('a write rule throwing on the data refuses with the rule named, no unreadable value, and the server goes on', async () => {
    const errors: unknown[] = [];
    // a doc's rank must stay under the limit, which only its own entity holds (no user may read it)
    const RULES = `
      [[(can-write ?u ?e) [?e :doc/owner ?u] [?e :doc/rank ?r] [?l :limit/max ?m] [(compare ?r ?m) ?c] [(< ?c 0)]]
       [(can-read ?u ?e) [?e :doc/title]]]`;
    const s = await rig.server({ permissions: RULES, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const mallory = client(s.url, 'mallory');
    const lim = await s.transact([{ ':limit/max': 7301 }]);
    expect(lim.tx).toBeDefined();
    const ok = await alice.c.transact([{ ':doc/title': 'a1', ':doc/owner': 'alice', ':doc/rank': 5 }]);
    await alice.c.confirmed(ok.tx);
    // a rank as a string: `compare` throws comparing it to the limit (its error would print 7301)
    const w = await mallory.c.transact([{ ':doc/title': 'FORGED', ':doc/owner': 'mallory', ':doc/rank': 'zzz' }]);
    const e = await refusal(mallory.c.confirmed(w.tx));
    expect(e?.code).toBe('sync/forbidden');
    expect([e?.data?.['rule'], e?.data?.['fn']]).toEqual(['can-write', 'compare']);
    expect(e?.message).toContain('(can-write …)');
    expect(e?.message).not.toContain('7301');
    expect(mallory.tap.frames.some((f) => f.includes('7301'))).toBe(false);
    // the server goes on serving others
    const ok2 = await alice.c.transact([{ ':doc/title': 'a2', ':doc/owner': 'alice', ':doc/rank': 6 }]);
    await alice.c.confirmed(ok2.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === 'a1,a2', 'bob receives the permitted writes');
    expect(bob.tap.frames.some((f) => f.includes('FORGED'))).toBe(false);
    expect(ruleErrors(errors)).toEqual([{ rule: 'can-write', fn: 'compare' }]);
  });
});

/**
 * Built-ins given a database (`get-else`, `get-some`, `missing?`) throw in `q` where the entity
 * argument is not an entity (a string a client wrote where an id was expected:
 * `entity-id/syntax`). The write judge evaluates rules with `q`: such a rule refuses that write,
 * names the rule and function, reports once through `onError`, and the server goes on. The engine
 * that maintains read rules reads the attribute's relation instead, where such a value has no
 * datoms (the default / missing): it cannot throw there. Under `not`, a throwing predicate never
 * lets a binding through.
 */
describe('permission rules whose database built-ins meet a value that is not an entity', () => {
  const REVIEWED = `
    [[(can-write ?u ?e) [?e :doc/owner ?u] [?e :doc/reviewer ?r] [(get-else $ ?r :doc/name "nobody") ?n] [(not= ?n "banned")]]
     [(can-write ?u ?e) [?e :user/handle ?u]]
     [(can-read ?u ?e) [?e :doc/title]]
     [(can-read ?u ?e) [?e :user/handle]]]`;

  it('a write rule calling get-else on a string refuses that write, names the rule, reports once, and the server goes on', async () => {
    const errors: unknown[] = [];
    const s = await rig.server({ permissions: REVIEWED, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const mallory = client(s.url, 'mallory');
    const u = await alice.c.transact([{ ':db/id': 'me', ':user/handle': 'alice', ':doc/name': 'Alice' }]);
    await alice.c.confirmed(u.tx);
    const me = u.tempids['me'] as number;
    const ok = await alice.c.transact([{ ':doc/title': 'a1', ':doc/owner': 'alice', ':doc/reviewer': me }]);
    await alice.c.confirmed(ok.tx);
    // a reviewer as a string: get-else throws in q (entity-id/syntax, naming the value)
    const w = await mallory.c.transact([{ ':doc/title': 'FORGED', ':doc/owner': 'mallory', ':doc/reviewer': 'zz-secret-zz' }]);
    const e = await refusal(mallory.c.confirmed(w.tx));
    expect(e?.code).toBe('sync/forbidden');
    expect([e?.data?.['rule'], e?.data?.['fn']]).toEqual(['can-write', 'get-else']);
    expect(e?.message).toContain('(can-write …)');
    // the server goes on: the permitted writes of others reach readers
    const ok2 = await alice.c.transact([{ ':doc/title': 'a2', ':doc/owner': 'alice', ':doc/reviewer': me }]);
    await alice.c.confirmed(ok2.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === 'a1,a2', 'bob receives the permitted writes');
    expect(bob.tap.frames.some((f) => f.includes('FORGED'))).toBe(false);
    expect(ruleErrors(errors)).toEqual([{ rule: 'can-write', fn: 'get-else' }]);
  });

  it('read rules with get-else and missing? over such values: the engine answers (default, missing), nothing throws', async () => {
    const errors: unknown[] = [];
    const RULES = `
      [[(can-read ?u ?e) [?e :doc/owner ?u]]
       [(can-read ?u ?e) [?e :doc/reviewer ?r] [(get-else $ ?r :doc/name "nobody") ?n] [(= ?n "nobody")] [(= ?u "bob")]]
       [(can-read ?u ?e) [?e :doc/title] [?e :doc/reviewer ?r] [(missing? $ ?r :doc/name)] [(= ?u "auditor")]]]`;
    const s = await rig.server({ permissions: RULES, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const auditor = client(s.url, 'auditor');
    const bob = client(s.url, 'bob');
    const mallory = client(s.url, 'mallory');
    const w = await mallory.c.transact([{ ':doc/title': 'odd', ':doc/owner': 'mallory', ':doc/reviewer': 'zz' }, { ':doc/title': 'odd too', ':doc/owner': 'mallory', ':doc/reviewer': 'yy' }]);
    await mallory.c.confirmed(w.tx);
    // `get-else` of a value that is not an entity: the default; `missing?`: missing (no datoms)
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === 'odd,odd too', 'bob reads docs whose reviewer has no name (get-else)');
    await until(async () => ((await auditor.c.q(TITLES)) as string[]).slice().sort().join() === 'odd,odd too', 'the auditor reads them too (missing?)');
    const m = await mallory.c.transact([{ ':doc/title': 'later', ':doc/owner': 'mallory', ':doc/reviewer': 'xx' }]);
    await mallory.c.confirmed(m.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).length === 3, 'the engine goes on');
    expect(ruleErrors(errors)).toEqual([]);
  });

  /**
   * Alice writes three docs of her own (one public, one secret, one whose value makes a rule's
   * built-in throw) and a marker doc; bob, under `rules`, must end up reading exactly `bobReads`,
   * no frame he received may name `hidden`, and the throw is reported once as `reported`.
   */
  async function bobReadsOnly(rules: string, docs: Array<Record<string, unknown>>, marker: Record<string, unknown>, bobReads: string[], hidden: string[], reported: Record<string, string>) {
    const errors: unknown[] = [];
    const s = await rig.server({ permissions: rules, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const w = await alice.c.transact(docs);
    await alice.c.confirmed(w.tx);
    await until(async () => ((await alice.c.q(TITLES)) as string[]).length === docs.length, 'alice reads her docs');
    const m = await alice.c.transact([marker]);
    await alice.c.confirmed(m.tx);
    const want = bobReads.slice().sort().join();
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === want, `bob reads ${want}`);
    expect(bob.tap.frames.some((f) => hidden.some((h) => f.includes(h)))).toBe(false);
    expect(ruleErrors(errors)).toEqual([reported]);
  }

  it('under not, a predicate that throws does not let the binding through', async () => {
    // docs tagged secret… are read by their owner only; a tag re-find cannot read is not "not secret"
    const RULES = `
      [[(can-read ?u ?e) [?e :doc/owner ?u]]
       [(can-read ?u ?e) [?e :doc/tag ?t] [(re-pattern "^secret") ?re] (not [(re-find ?re ?t)])]]`;
    await bobReadsOnly(
      RULES,
      [
        { ':doc/title': 'public', ':doc/owner': 'alice', ':doc/tag': 'pub' },
        { ':doc/title': 'secret', ':doc/owner': 'alice', ':doc/tag': 'secret-1' },
        { ':doc/title': 'numbered', ':doc/owner': 'alice', ':doc/tag': 42 },
      ],
      { ':doc/title': 'after', ':doc/owner': 'alice', ':doc/tag': 'pub' },
      ['after', 'public'],
      ['numbered'],
      { rule: 'can-read', fn: 're-find' },
    );
  });

  it('under not, a function that throws does not let the binding through (read rule, subs on a number)', async () => {
    // docs whose title starts SECRET are read by their owner only; a title `subs` cannot cut (a
    // number: `subs` clamps short strings, it throws on what is not a string) is not "not secret"
    const RULES = `
      [[(can-read ?u ?e) [?e :doc/owner ?u]]
       [(can-read ?u ?e) [?e :doc/title ?t] (not [(subs ?t 0 6) ?p] [(= ?p "SECRET")])]]`;
    await bobReadsOnly(
      RULES,
      [
        { ':doc/title': 'public doc', ':doc/owner': 'alice' },
        { ':doc/title': 'SECRET plan', ':doc/owner': 'alice' },
        { ':doc/title': 987654, ':doc/owner': 'alice' },
      ],
      { ':doc/title': 'after all', ':doc/owner': 'alice' },
      ['after all', 'public doc'],
      ['987654', 'SECRET'],
      { rule: 'can-read', fn: 'subs' },
    );
  });

  it('under not-join, a function that throws does not let a write through (can-write)', async () => {
    const errors: unknown[] = [];
    // anyone may write a doc unless its title starts LOCKED; a title `subs` cannot cut is not "not locked"
    const RULES = `
      [[(can-write ?u ?e) [?e :doc/title ?t] (not-join [?t] [(subs ?t 0 6) ?p] [(= ?p "LOCKED")])]
       [(can-read ?u ?e) [?e :doc/title]]]`;
    const s = await rig.server({ permissions: RULES, authenticate: (t) => t, onError: (e) => errors.push(e) });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const mallory = client(s.url, 'mallory');
    const ok = await alice.c.transact([{ ':doc/title': 'open doc' }]);
    await alice.c.confirmed(ok.tx);
    const locked = await alice.c.transact([{ ':doc/title': 'LOCKED doc' }]);
    expect((await refusal(alice.c.confirmed(locked.tx)))?.code).toBe('sync/forbidden');
    const w = await mallory.c.transact([{ ':doc/title': 13579 }]);
    const e = await refusal(mallory.c.confirmed(w.tx));
    expect(e?.code).toBe('sync/forbidden');
    expect([e?.data?.['rule'], e?.data?.['fn']]).toEqual(['can-write', 'subs']);
    const ok2 = await alice.c.transact([{ ':doc/title': 'open doc 2' }]);
    await alice.c.confirmed(ok2.tx);
    await until(async () => ((await bob.c.q(TITLES)) as string[]).slice().sort().join() === 'open doc,open doc 2', 'bob receives the permitted writes');
    expect(bob.tap.frames.some((f) => f.includes('13579'))).toBe(false);
    expect(ruleErrors(errors)).toEqual([{ rule: 'can-write', fn: 'subs' }]);
  });

  it('a rule called under not whose function throws does not let the binding through', async () => {
    const RULES = `
      [[(secret? ?e) [?e :doc/title ?t] [(subs ?t 0 6) ?p] [(= ?p "SECRET")]]
       [(can-read ?u ?e) [?e :doc/owner ?u]]
       [(can-read ?u ?e) [?e :doc/title] (not (secret? ?e))]]`;
    await bobReadsOnly(
      RULES,
      [
        { ':doc/title': 'public doc', ':doc/owner': 'alice' },
        { ':doc/title': 'SECRET plan', ':doc/owner': 'alice' },
        { ':doc/title': 864209, ':doc/owner': 'alice' },
      ],
      { ':doc/title': 'after all', ':doc/owner': 'alice' },
      ['after all', 'public doc'],
      ['864209', 'SECRET'],
      { rule: 'secret?', fn: 'subs' },
    );
  });
});
