/**
 * Says what a transaction did, in the app's words and with names rather than ids: "added the
 * todo “milk”", "raised corinna's earnings 125 → 225". Built from the replica's history datoms
 * (`client.history()`: `[e, attribute, value, tx, added]`, oldest first).
 */
import { cap, money } from '../names.js';

export type HistoryDatom = readonly [e: number, a: unknown, v: unknown, tx: string, added: boolean];

export interface TxStep {
  tx: string;
  /** Human-readable sentences, one per change that matters (never empty). */
  changes: string[];
}

/** Attributes that name an entity. */
const NAMES = ['todo/title', 'thug/name', 'territory/name', 'note/title', 'memo/text', 'lead/company'];

const attr = (a: unknown) => String(a).replace(/^:/, '');
const quote = (v: unknown) => `“${String(v)}”`;

/** The transactions of `datoms`, oldest first, each described with entity names. */
export function describeHistory(datoms: readonly HistoryDatom[]): TxStep[] {
  const name = new Map<number, string>(); // the latest name each entity had (names outlive retractions)
  const byTx = new Map<string, HistoryDatom[]>();
  for (const d of datoms) {
    if (NAMES.includes(attr(d[1])) && d[4]) name.set(d[0], String(d[2]));
    let list = byTx.get(d[3]);
    if (!list) byTx.set(d[3], (list = []));
    list.push(d);
  }
  const nameOf = (e: number) => name.get(e) ?? `entity ${e}`;
  const steps: TxStep[] = [];
  for (const tx of [...byTx.keys()].sort()) {
    const ds = byTx.get(tx)!;
    const changes = new Set<string>();
    const added = (a: string) => ds.find((d) => attr(d[1]) === a && d[4]);
    const removed = (e: number, a: string) => ds.find((d) => d[0] === e && attr(d[1]) === a && !d[4]);
    const thugsAdded = ds.filter((d) => attr(d[1]) === 'thug/name' && d[4]).length;
    if (thugsAdded > 1) changes.add(`loaded the sample team (${thugsAdded} people)`);
    for (const d of ds) {
      const [e, aRaw, v, , isAdd] = d;
      const a = attr(aRaw);
      if (a === 'todo/title') {
        const before = removed(e, a);
        if (isAdd && before) changes.add(`renamed the task ${quote(before[2])} to ${quote(v)}`);
        else if (isAdd) changes.add(`added the task ${quote(v)}`);
        else if (!ds.some((x) => x[0] === e && attr(x[1]) === a && x[4])) changes.add(`deleted the task ${quote(v)}`);
      } else if (a === 'todo/done' && isAdd && ds.some((x) => x[0] === e && attr(x[1]) === a && !x[4])) {
        changes.add(`${v ? 'ticked' : 'unticked'} the task ${quote(nameOf(e))}`);
      } else if (a === 'thug/earnings' && isAdd && thugsAdded <= 1) {
        const before = removed(e, a);
        const from = before ? Number(before[2]) : null;
        const verb = from === null ? 'set' : Number(v) >= from ? 'raised' : 'cut';
        changes.add(`${verb} ${cap(nameOf(e))}'s revenue ${from === null ? '' : `${money(from)} → `}${money(Number(v))}`);
      } else if (a === 'thug/rat?' && isAdd) {
        changes.add(v ? `flagged ${cap(nameOf(e))} for review` : `cleared ${cap(nameOf(e))}'s flag`);
      } else if (['thug/role', 'thug/territory', 'thug/boss'].includes(a) && isAdd && thugsAdded <= 1) {
        changes.add(`updated ${cap(nameOf(e))}'s profile`);
      } else if (a === 'note/title' && isAdd) {
        changes.add('started the briefing');
      } else if (a === 'note/body') {
        changes.add('edited the briefing');
      } else if (a === 'memo/text' && isAdd) {
        changes.add(removed(e, a) ? `edited the memo ${quote(v)}` : `wrote the memo ${quote(v)}`);
      } else if (a === 'memo/private?' && isAdd && removed(e, a)) {
        changes.add(`${v ? 'made private' : 'shared'} the memo ${quote(nameOf(e))}`);
      } else if (a === 'lead/company' && isAdd) {
        changes.add(`the CRM feed added the lead ${quote(v)}`);
      } else if (a === 'lead/stage' && isAdd && !ds.some((x) => x[0] === e && attr(x[1]) === 'lead/company' && x[4])) {
        changes.add(`the CRM feed moved ${quote(nameOf(e))} to ${String(v)}`);
      } else if (a === 'user/id' && isAdd) {
        changes.add('registered the demo people');
      } else if (a.startsWith('draft/') && isAdd) {
        changes.add('edited a shared draft');
      }
    }
    if (added('db/ident') || ds.some((d) => attr(d[1]).startsWith('db'))) changes.add('set up the schema');
    steps.push({ tx, changes: changes.size > 0 ? [...changes] : ['other changes'] });
  }
  return steps;
}

/** Runs of consecutive steps that say the same (keystrokes in the briefing) as one step: the run's last transaction, with its length. */
export function collapseRuns(steps: readonly TxStep[]): Array<TxStep & { count: number }> {
  const out: Array<TxStep & { count: number }> = [];
  for (const s of steps) {
    const last = out[out.length - 1];
    if (last && last.changes.join() === s.changes.join()) out[out.length - 1] = { ...s, count: last.count + 1 };
    else out.push({ ...s, count: 1 });
  }
  return out;
}
