/**
 * Draft visibility wired into connections, checked at the socket: three real clients (alice, bob,
 * carol) against the real server (SQLite, loopback WebSockets). A private draft's envelopes reach
 * only its author and collaborators; a collaborator invited later catches up live and at hello;
 * pushes into a draft by a non-editor are rejected with `sync/forbidden`.
 */
import { describe, expect, it } from 'vitest';
import { DataloomError, draftSchema } from '@dataloom/core';
import type { Client } from '@dataloom/client';
import { rawSession, type Tap } from './support/tap.js';
import { until } from './support/wait.js';
import { testRig } from './support/rig.js';

const schema = {
  ...draftSchema,
  ':item/title': { ':db/valueType': ':db.type/string' },
  ':team/members': { ':db/cardinality': ':db.cardinality/many' },
  ':form/team': { ':db/valueType': ':db.type/ref' },
};

const rig = testRig('private-drafts', { schema });
const server = (extra: { permissions?: string } = {}) => rig.server({ authenticate: (token) => token, ...extra });
const client = (url: string, user: string, name?: string) => rig.userClient(url, user, name === undefined ? {} : { name });

/** Every envelope the socket delivered, with its draft. */
const envelopes = (tap: Tap) =>
  tap.frames.flatMap((f) => {
    const m = JSON.parse(f) as { t: string; txs?: Array<{ env: { tx: string; draft?: string; ops: Array<{ e: string; v?: unknown }> } }> };
    return m.t === 'ops' ? m.txs!.map((x) => x.env) : [];
  });
/** Whether any frame mentions `text` (a value, an id). */
const mentions = (tap: Tap, text: string) => tap.frames.some((f) => f.includes(text));

const TITLE = '[:find ?t . :where [_ :item/title ?t]]';

describe('private drafts at the socket', () => {
  it('reach the author and collaborators only; a user invited later catches up live', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const carol = client(s.url, 'carol');
    const r = await alice.c.transact([{ ':db/id': 'x', ':item/title': 'milk' }]);
    const x = r.globalIds['x']!;
    await alice.c.confirmed(r.tx);
    const id = await alice.c.createDraft({ author: 'alice', collaborators: ['bob'] });
    const d = alice.c.draft(id);
    const w = await d.transact([[':db/add', x, ':item/title', 'secret oat milk']]);
    await alice.c.whenSynced();
    await until(async () => (await bob.c.draft(id).q(TITLE)) === 'secret oat milk', 'bob sees the WIP');
    // an ordinary change after the draft's: once carol has it, she has been sent everything before it
    const later = await bob.c.transact([[':db/add', x, ':item/title', 'milk 2']]);
    await bob.c.confirmed(later.tx);
    await until(async () => (await carol.c.q(TITLE)) === 'milk 2', 'carol receives the ordinary change');
    expect(envelopes(carol.tap).some((e) => e.draft !== undefined)).toBe(false);
    expect(mentions(carol.tap, 'secret')).toBe(false);
    expect(mentions(carol.tap, id)).toBe(false); // not even the draft entity (author, collaborators)
    expect(await carol.c.draft(id).q(TITLE)).toBe('milk 2');
    expect(envelopes(bob.tap).some((e) => e.tx === w.tx)).toBe(true);
    // invited now: carol catches up on the live WIP without reconnecting
    await d.invite('carol');
    await until(async () => (await carol.c.draft(id).q(TITLE)) === 'secret oat milk', 'carol catches up on the WIP');
    expect(await carol.c.q(TITLE)).toBe('milk 2');
  });

  it('a user who gained sight while away catches up at hello; a non-editor’s push into the draft is rejected', async () => {
    const s = await server();
    const alice = client(s.url, 'alice');
    const carol = client(s.url, 'carol');
    const id = await alice.c.createDraft({ author: 'alice' });
    const wip = await alice.c.draft(id).transact([{ ':item/title': 'hidden draft' }]);
    await alice.c.whenSynced();
    // carol pushes into the private draft: refused, nothing of it reaches alice
    const forged = await carol.c.draft(id).transact([{ ':item/title': 'forged by carol' }]);
    const err = await carol.c.confirmed(forged.tx).then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DataloomError);
    expect((err as DataloomError).code).toBe('sync/forbidden');
    const c2 = await carol.c.transact([{ ':item/title': 'carol public' }]);
    await carol.c.confirmed(c2.tx);
    await until(async () => (await alice.c.q('[:find (count ?e) . :where [?e :item/title "carol public"]]')) === 1, 'alice has carol’s public write');
    const cur = async (k: Client) => (await k.syncStatus())?.cursor ?? null;
    await until(async () => (await cur(carol.c)) !== null && (await cur(carol.c)) === (await cur(alice.c)), 'carol is at the head');
    expect(mentions(carol.tap, 'hidden draft')).toBe(false);
    expect(mentions(alice.tap, 'forged by carol')).toBe(false);
    const cursor = await cur(carol.c);
    await carol.c.close();
    // alice invites carol while she is away; carol comes back with her cursor (past the WIP)
    await alice.c.draft(id).invite('carol');
    await alice.c.whenSynced();
    const back = await rawSession(s.url, 'carol', 'rcarolback', cursor);
    rig.defer(() => back.ws.close());
    await until(() => back.msgs().some((m) => m['t'] === 'ops' && JSON.stringify(m).includes(wip.tx)), 'carol catches up at hello');
    const first = back.msgs().findIndex((m) => m['t'] === 'ops');
    const caught = back.msgs()[first] as { txs: Array<{ pos: string; env: { tx: string } }>; cursor: string };
    expect(caught.cursor).toBe(cursor); // a catch-up leaves the cursor where it was
    expect(caught.txs.map((x) => x.env.tx)).toContain(wip.tx);
    // a stranger reconnecting from the same cursor gets none of it
    const dave = await rawSession(s.url, 'dave', 'rdave', cursor);
    rig.defer(() => dave.ws.close());
    await until(() => dave.msgs().some((m) => m['t'] === 'ops'), 'dave is streamed the invitation entry (filtered)');
    await new Promise((r) => setTimeout(r, 50));
    expect(dave.frames.some((f) => f.includes('hidden draft') || f.includes(id))).toBe(false);
  });

  it('with (can-see-draft …) rules, a private draft follows them: joining the form’s team shows it live', async () => {
    const rules = `[[(can-see-draft ?u ?d) [?d :draft/author ?u]]
                   [(can-see-draft ?u ?d) [?d :form/team ?t] [?t :team/members ?u]]]`;
    const s = await server({ permissions: rules });
    const alice = client(s.url, 'alice');
    const bob = client(s.url, 'bob');
    const carol = client(s.url, 'carol');
    const t = await alice.c.transact([{ ':db/id': 'team', ':team/members': ['alice'] }]);
    const team = t.globalIds['team']!;
    const id = await alice.c.createDraft({ author: 'alice' });
    const link = await alice.c.transact([[':db/add', id, ':form/team', team]]);
    await alice.c.confirmed(link.tx);
    const wip = await alice.c.draft(id).transact([{ ':item/title': 'team draft WIP' }]);
    await alice.c.whenSynced();
    // carol, not in the team, may not push into it; bob does not receive it
    const forged = await carol.c.draft(id).transact([{ ':item/title': 'forged' }]);
    expect(((await carol.c.confirmed(forged.tx).then(() => null, (e: unknown) => e)) as DataloomError).code).toBe('sync/forbidden');
    const marker = await carol.c.transact([{ ':item/title': 'marker' }]);
    await carol.c.confirmed(marker.tx);
    await until(async () => (await bob.c.q('[:find ?t . :where [_ :item/title "marker"] [_ :item/title ?t]]')) !== null, 'bob has the marker');
    expect(mentions(bob.tap, 'team draft WIP')).toBe(false);
    // bob joins the team: the draft's live envelopes reach him without a reconnect
    const join1 = await alice.c.transact([[':db/add', team, ':team/members', 'bob']]);
    await alice.c.confirmed(join1.tx);
    await until(() => mentions(bob.tap, wip.tx), 'bob catches up on the draft');
    await until(async () => (await bob.c.draft(id).q('[:find ?t . :where [_ :item/title ?t] [(= ?t "team draft WIP")]]')) === 'team draft WIP', 'bob sees the WIP in the draft');
    expect(mentions(carol.tap, 'team draft WIP')).toBe(false);
  });
});
