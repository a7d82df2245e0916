/**
 * Forged writes, seeded, against the real server and real clients: users make random legitimate
 * writes (creating their own docs, editing them) mixed with forged ones — editing another user's
 * doc, handing ownership away, creating a doc in someone else's name, setting an attribute only
 * no user may set (`:doc/approved`), pushing under another user's replica id (a raw connection).
 * Every forged write is rejected with `sync/forbidden`, every legitimate one is acknowledged, and
 * no frame any socket receives carries anything of a forged write; at the end every replica holds
 * exactly the accepted titles. `FUZZ_RUNS=n` runs n seeds, `FUZZ_SEED=s` replays one.
 */
import { describe, expect, it } from 'vitest';
import { type DataloomError } from '@dataloom/core';
import { replicaOfTx } from '@dataloom/core/internals';
import { mulberry32, pick, replayableAsync, seeds } from '../gen/prng.js';
import { rawSession } from './support/tap.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = { ':doc/title': {}, ':doc/owner': {}, ':doc/approved': {} };
const RULES = `
[[(can-write ?u ?e) [?e :doc/owner ?u] [$before ?e :doc/owner ?u] [(get-else $ ?e :doc/approved "no") ?x] [(get-else $before ?e :doc/approved "no") ?x]]
 [(can-write ?u ?e) [?e :doc/owner ?u] [(missing? $before ?e :doc/owner)] [(missing? $ ?e :doc/approved)]]
 [(can-read ?u ?e) [?e :doc/title]]]`;
const USERS = ['alice', 'bob', 'carol'];
const WRITES = 60;

const rig = testRig('forged-writes', { schema });

async function run(seed: number): Promise<void> {
  const rnd = mulberry32(seed);
  const s = await rig.server({ permissions: RULES, authenticate: (t) => t });
  const users = new Map(USERS.map((u) => [u, rig.userClient(s.url, u)]));
  const docs: Array<{ id: string; owner: string; title: string }> = [];
  const accepted = new Set<string>();
  const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: DataloomError) => e.code);
  // every user owns a doc to begin with
  let alicesReplica = '';
  for (const u of USERS) {
    const c = users.get(u)!.c;
    const r = await c.transact([{ ':db/id': 'd', ':doc/title': `${u}-0`, ':doc/owner': u }]);
    await c.confirmed(r.tx);
    if (u === 'alice') alicesReplica = replicaOfTx(r.tx);
    docs.push({ id: r.globalIds['d']!, owner: u, title: `${u}-0` });
    accepted.add(`${u}-0`);
  }
  // a raw connection of bob under alice's replica id
  const raw = await rawSession(s.url, 'bob', alicesReplica, null);
  rig.defer(() => raw.ws.close());
  for (let i = 0; i < WRITES; i++) {
    const u = pick(rnd, USERS);
    const c = users.get(u)!.c;
    const mine = docs.filter((d) => d.owner === u);
    const others = docs.filter((d) => d.owner !== u);
    const k = rnd();
    const title = (tag: string) => `${tag}-${seed}-${i}`;
    if (k < 0.3) {
      // legitimate: a new doc of one's own, or a new title for one's own doc
      const t = title(`${u}-ok`);
      const edit = mine.length > 0 && rnd() < 0.5 ? pick(rnd, mine) : null;
      const r = await c.transact(edit ? [[':db/add', edit.id, ':doc/title', t]] : [{ ':db/id': 'd', ':doc/title': t, ':doc/owner': u }]);
      expect(await outcome(c.confirmed(r.tx)), `seed ${seed} write ${i}: ${u}'s own write`).toBe('ok');
      if (edit) {
        accepted.delete(edit.title);
        edit.title = t;
      } else docs.push({ id: r.globalIds['d']!, owner: u, title: t });
      accepted.add(t);
      continue;
    }
    const forged = title('FORGED');
    let tx: unknown[];
    let what: string;
    if (k < 0.45) (tx = [[':db/add', pick(rnd, others).id, ':doc/title', forged]]), (what = "another user's doc");
    else if (k < 0.6 && mine.length) (tx = [[':db/add', pick(rnd, mine).id, ':doc/owner', pick(rnd, USERS.filter((x) => x !== u))], [':db/add', pick(rnd, mine).id, ':doc/title', forged]]), (what = 'ownership handed away');
    else if (k < 0.7) (tx = [{ ':doc/title': forged, ':doc/owner': pick(rnd, USERS.filter((x) => x !== u)) }]), (what = "a doc in another's name");
    else if (k < 0.85) (tx = mine.length && rnd() < 0.5 ? [[':db/add', pick(rnd, mine).id, ':doc/approved', forged]] : [{ ':doc/title': forged, ':doc/owner': u, ':doc/approved': 'yes' }]), (what = 'a forbidden attribute');
    else {
      // bob pushes under alice's replica id
      const replica = alicesReplica;
      const txId = `${(Date.now() + i).toString(36).padStart(12, '0')}-${(i % 1000).toString(36).padStart(4, '0')}-${replica}`;
      raw.ws.send(JSON.stringify({ t: 'push', txs: [{ tx: txId, replica, ops: [{ id: `${txId}/0`, tx: txId, e: `${replica}.f${i}`, op: 'add', a: 'doc/title', v: forged }] }] }));
      await until(() => raw.msgs().some((m) => m['tx'] === txId), `seed ${seed} write ${i}: an answer to the replica forgery`);
      expect(raw.msgs().find((m) => m['tx'] === txId)?.['code'], `seed ${seed} write ${i}: another user's replica id`).toBe('sync/forbidden');
      continue;
    }
    const r = await c.transact(tx);
    expect(await outcome(c.confirmed(r.tx)), `seed ${seed} write ${i}: ${u} forging ${what}`).toBe('sync/forbidden');
  }
  // nothing forged reached any socket; every replica holds exactly the accepted titles
  const want = [...accepted].sort();
  for (const [u, k] of users) {
    await until(async () => ((await k.c.q('[:find [?t ...] :where [_ :doc/title ?t]]')) as string[]).slice().sort().join() === want.join(), `seed ${seed}: ${u} holds the accepted titles`);
    expect(k.tap.frames.filter((f) => f.includes('FORGED') && !f.startsWith('{"t":"reject"')), `seed ${seed}: ${u}'s socket`).toEqual([]);
  }
  expect(raw.frames.filter((f) => f.includes('FORGED') && !f.startsWith('{"t":"reject"'))).toEqual([]);
}

describe('forged writes (seeded, real server and clients)', () => {
  for (const seed of seeds(3, 8300)) it(`seed ${seed}`, () => replayableAsync(seed, () => run(seed)), 120_000);
});
