/**
 * `runServerStoreTests(name, setup)`: the shared contract suite every {@link ServerStore} passes
 * (see `types.ts` for the invariants it checks). Test-only: imports vitest.
 */
import { describe, expect, it } from 'vitest';
import type { TxEnvelope } from '@dataloom/core';
import type { Judge, LogEntry, ServerStore, Verdict } from './types.js';

export interface StoreSetup {
  /** A fresh, empty, unopened store. */
  make(): Promise<ServerStore>;
  /** A second handle on the same data (reopen after close, or another process' view). */
  again(): ServerStore;
  /** True if two handles may be open at once (several processes). */
  concurrent: boolean;
  /** Remove everything. */
  cleanup(): Promise<void>;
}

let counter = 0;
/** A small valid envelope from `replica`. */
export function env(replica: string, n: number, attr = 'item/n'): TxEnvelope {
  const ms = (1_700_000_000_000 + n).toString(36).padStart(12, '0');
  const tx = `${ms}-${(counter++ % 1000).toString(36).padStart(4, '0')}-${replica}`;
  return { tx, replica, ops: [{ id: `${tx}/0`, tx, e: `${replica}.${n.toString(36)}`, op: 'add', a: attr, v: n }] };
}

/** A judge that accepts all but envelopes whose first op value is negative, and records catch-ups. */
export class RecordingJudge implements Judge {
  seen: LogEntry[] = [];
  checked: string[] = [];
  catchUp(entries: readonly LogEntry[]): void {
    this.seen.push(...entries);
  }
  check(e: TxEnvelope): Verdict {
    this.checked.push(e.tx);
    const v = e.ops[0]?.v;
    return typeof v === 'number' && v < 0 ? { ok: false, code: 'test/negative', message: 'negative' } : { ok: true };
  }
}

export function runServerStoreTests(name: string, setup: () => Promise<StoreSetup>): void {
  describe(`ServerStore contract: ${name}`, () => {
    const withStore = (fn: (s: ServerStore, su: StoreSetup) => Promise<void>) => async () => {
      const su = await setup();
      const s = await su.make();
      await s.open();
      try {
        await fn(s, su);
      } finally {
        await s.close();
        await su.cleanup();
      }
    };

    it('starts empty', withStore(async (s) => {
      expect(await s.head()).toBe(0);
      expect(await s.readSince(0, 10)).toEqual([]);
    }));

    it('assigns gapless positions in order and round-trips envelopes exactly', withStore(async (s) => {
      const a = [env('ra', 1), env('ra', 2), env('rb', 3)];
      const j = new RecordingJudge();
      const r = await s.append(a, 0, j);
      expect(r.outcomes).toEqual(a.map((e, i) => ({ tx: e.tx, status: 'appended', pos: i + 1 })));
      expect(r.head).toBe(3);
      expect(r.entries.map((x) => x.pos)).toEqual([1, 2, 3]);
      expect(await s.readSince(0, 100)).toEqual(a.map((e, i) => ({ pos: i + 1, env: e })));
      expect(await s.readSince(1, 1)).toEqual([{ pos: 2, env: a[1] }]);
      expect(await s.head()).toBe(3);
    }));

    it('dedupes by tx id across batches and within a batch, reporting the original position', withStore(async (s) => {
      const a = env('ra', 1);
      const b = env('ra', 2);
      await s.append([a], 0, new RecordingJudge());
      const j = new RecordingJudge();
      const r = await s.append([b, a, b], 1, j);
      expect(r.outcomes).toEqual([
        { tx: b.tx, status: 'appended', pos: 2 },
        { tx: a.tx, status: 'duplicate', pos: 1 },
        { tx: b.tx, status: 'duplicate', pos: 2 },
      ]);
      expect(j.checked).toEqual([b.tx]);
      expect((await s.readSince(0, 100)).length).toBe(2);
    }));

    it('rejects a different envelope under a stored tx id (no squatting)', withStore(async (s) => {
      const a = env('ra', 1);
      await s.append([a], 0, new RecordingJudge());
      const forged = { ...a, ops: [{ ...a.ops[0]!, v: 999 }] };
      const r = await s.append([forged], 1, new RecordingJudge());
      expect(r.outcomes[0]).toMatchObject({ status: 'rejected', code: 'sync/tx-conflict' });
      expect((await s.readSince(0, 10))[0]!.env).toEqual(a);
    }));

    it('stores nothing of a rejected envelope and keeps positions gapless', withStore(async (s) => {
      const r = await s.append([env('ra', 1), env('ra', -1), env('ra', 2)], 0, new RecordingJudge());
      expect(r.outcomes.map((o) => o.status)).toEqual(['appended', 'rejected', 'appended']);
      expect(r.outcomes[1]).toMatchObject({ code: 'test/negative' });
      expect((await s.readSince(0, 10)).map((e) => [e.pos, e.env.ops[0]!.v])).toEqual([[1, 1], [2, 2]]);
    }));

    it('gives a rejected envelope its first verdict again, without judging it afresh; other content under its id is judged', withStore(async (s, su) => {
      const bad = env('ra', -1);
      const r1 = await s.append([bad, bad], 0, new RecordingJudge());
      expect(r1.outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
      // a judge that would now accept it is not asked: the first verdict stands (also on another handle)
      const lenient: Judge = { catchUp: () => {}, check: () => ({ ok: true }) };
      const r2 = await s.append([bad], 0, lenient);
      expect(r2.outcomes[0]).toEqual({ tx: bad.tx, status: 'rejected', code: 'test/negative', message: 'negative' });
      if (su.concurrent) {
        const other = su.again();
        await other.open();
        try {
          expect((await other.append([bad], 0, lenient)).outcomes[0]).toMatchObject({ status: 'rejected', code: 'test/negative' });
        } finally {
          await other.close();
        }
      }
      const changed = { ...bad, ops: [{ ...bad.ops[0]!, v: 5 }] };
      expect((await s.append([changed], 0, new RecordingJudge())).outcomes[0]).toEqual({ tx: bad.tx, status: 'appended', pos: 1 });
      expect(await s.head()).toBe(1);
    }));

    it('hands the judge every entry after knownHead before judging', withStore(async (s) => {
      await s.append([env('ra', 1), env('ra', 2)], 0, new RecordingJudge());
      const j = new RecordingJudge();
      const r = await s.append([env('rb', 3)], 1, j);
      expect(j.seen.map((e) => e.pos)).toEqual([2]);
      expect(r.entries.map((e) => e.pos)).toEqual([2, 3]);
    }));

    it('is atomic: a judge that throws mid-batch leaves nothing stored', withStore(async (s) => {
      const boom: Judge = {
        catchUp() {},
        check(e) {
          if (e.ops[0]!.v === 2) throw new Error('boom');
          return { ok: true };
        },
      };
      await expect(s.append([env('ra', 1), env('ra', 2)], 0, boom)).rejects.toThrow('boom');
      expect(await s.head()).toBe(0);
      const r = await s.append([env('ra', 3)], 0, new RecordingJudge());
      expect(r.outcomes[0]).toMatchObject({ status: 'appended', pos: 1 });
    }));

    it('notifies onAppend after a commit', withStore(async (s) => {
      const heads: number[] = [];
      const off = s.onAppend((h) => heads.push(h));
      await s.append([env('ra', 1)], 0, new RecordingJudge());
      for (let i = 0; i < 50 && heads.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      off();
      expect(heads).toContain(1);
    }));

    it('has a stable log id, different for another log', async () => {
      const su = await setup();
      const s = await su.make();
      await s.open();
      const id = await s.logId();
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      await s.close();
      const s2 = su.again();
      await s2.open();
      expect(await s2.logId()).toBe(id);
      await s2.close();
      await su.cleanup();
      const other = await (await setup()).make();
      await other.open();
      expect(await other.logId()).not.toBe(id);
      await other.destroy();
    });

    it('keeps meta values (source cursors) across close and reopen; refuses the store\'s own keys', async () => {
      const su = await setup();
      const s = await su.make();
      await s.open();
      expect(await s.getMeta('source:crm')).toBeNull();
      await s.setMeta('source:crm', '{"seq":1}');
      await s.setMeta('source:crm', '{"seq":2}');
      await expect(s.setMeta('log_id', 'x')).rejects.toThrow(/belongs to the store/);
      await s.close();
      const s2 = su.again();
      await s2.open();
      try {
        expect(await s2.getMeta('source:crm')).toBe('{"seq":2}');
      } finally {
        await s2.close();
        await su.cleanup();
      }
    });

    it('keeps everything across close and reopen', async () => {
      const su = await setup();
      const s = await su.make();
      await s.open();
      const a = [env('ra', 1), env('rb', 2)];
      await s.append(a, 0, new RecordingJudge());
      await s.close();
      const s2 = su.again();
      await s2.open();
      try {
        expect(await s2.readSince(0, 10)).toEqual(a.map((e, i) => ({ pos: i + 1, env: e })));
        const r = await s2.append([a[0]!], 0, new RecordingJudge());
        expect(r.outcomes[0]).toEqual({ tx: a[0]!.tx, status: 'duplicate', pos: 1 });
      } finally {
        await s2.close();
        await su.cleanup();
      }
    });

    it('compacts below a horizon: entries rewritten in place, positions and tx ids kept, duplicates still recognised, kept across reopen', async () => {
      const su = await setup();
      const s = await su.make();
      await s.open();
      const a = [env('ra', 1), env('rb', 2), env('rc', 3)];
      await s.append(a, 0, new RecordingJudge());
      expect(await s.horizon()).toBe(0);
      const cut = { ...a[0]!, ops: [] };
      // an entry above the horizon is left as it is
      await s.compact(1, [{ pos: 1, env: cut }, { pos: 3, env: { ...a[2]!, ops: [] } }]);
      expect(await s.horizon()).toBe(1);
      await s.compact(0, []);
      expect(await s.horizon()).toBe(1);
      await expect(s.setMeta('horizon', '0')).rejects.toThrow(/belongs to the store/);
      expect(await s.positionAt(Date.now() + 1000)).toBe(3);
      expect(await s.positionAt(0)).toBe(0);
      await s.close();
      const s2 = su.again();
      await s2.open();
      try {
        expect(await s2.horizon()).toBe(1);
        expect(await s2.readSince(0, 10)).toEqual([{ pos: 1, env: cut }, { pos: 2, env: a[1] }, { pos: 3, env: a[2] }]);
        // the original envelope of a compacted entry is a duplicate; another one under its tx id is not
        const r = await s2.append([a[0]!, { ...a[0]!, ops: [{ ...a[0]!.ops[0]!, v: 99 }] }], 3, new RecordingJudge());
        expect(r.outcomes[0]).toEqual({ tx: a[0]!.tx, status: 'duplicate', pos: 1 });
        expect(r.outcomes[1]).toMatchObject({ status: 'rejected', code: 'sync/tx-conflict' });
        // compacting a compacted entry again keeps the first digest
        await s2.compact(2, [{ pos: 1, env: cut }]);
        const again = await s2.append([a[0]!], 3, new RecordingJudge());
        expect(again.outcomes[0]).toEqual({ tx: a[0]!.tx, status: 'duplicate', pos: 1 });
        expect(await s2.head()).toBe(3);
      } finally {
        await s2.close();
        await su.cleanup();
      }
    });

    it('concurrent writers through separate handles share one gapless total order', async () => {
      const su = await setup();
      if (!su.concurrent) {
        await su.cleanup();
        return;
      }
      const s1 = await su.make();
      await s1.open();
      const s2 = su.again();
      await s2.open();
      try {
        const judges = [new RecordingJudge(), new RecordingJudge()];
        const heads = [0, 0];
        const stores = [s1, s2];
        const work = [0, 1].map(async (w) => {
          for (let i = 0; i < 15; i++) {
            const r = await stores[w]!.append([env(`w${w}`, i), env(`w${w}`, 100 + i)], heads[w]!, judges[w]!);
            // entries must be contiguous from the known head: nothing skipped
            expect(r.entries.map((e) => e.pos)).toEqual(Array.from({ length: r.head - heads[w]! }, (_, k) => heads[w]! + k + 1));
            heads[w] = r.head;
          }
        });
        await Promise.all(work);
        const all = await s1.readSince(0, 1000);
        expect(all.map((e) => e.pos)).toEqual(Array.from({ length: 60 }, (_, k) => k + 1));
        expect(new Set(all.map((e) => e.env.tx)).size).toBe(60);
      } finally {
        await s1.close();
        await s2.close();
        await su.cleanup();
      }
    });
  });
}
