/**
 * Changes to a person's revenue are compare-and-set (`:db/cas`), judged by the server: two people
 * raising at once never silently lose one raise. The verdict can come much later (after a reload
 * or a spell offline), so the raises sent are remembered per tab, by transaction, and a refusal is
 * said in words, with the person's name, wherever the app shows that person.
 */
import { useClient, useTransact } from '@dataloom/react';
import { useEffect, useState } from 'react';
import { cap } from '../names.js';

const KEY = 'dataloom-demo:raises';
type Raises = Record<string, { name: string; by: number }>;
const read = (): Raises => JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as Raises;

function remember(tx: string, name: string, by: number): void {
  const all = read();
  const keys = Object.keys(all);
  if (keys.length > 50) delete all[keys[0]!];
  sessionStorage.setItem(KEY, JSON.stringify({ ...all, [tx]: { name, by } }));
}

function take(tx: string): { name: string; by: number } | undefined {
  const all = read();
  const r = all[tx];
  if (r) {
    delete all[tx];
    sessionStorage.setItem(KEY, JSON.stringify(all));
  }
  return r;
}

/** A refused change, said with the person's name rather than the entity id the server reports. */
export function refusal(id: string, by: number, e: unknown): string {
  const err = e as { code?: string; message?: string };
  const name = cap(id);
  const what = by > 0 ? `Raise of ${by}` : `Cut of ${-by}`;
  if (/cas/.test(err.code ?? '')) {
    const m = /expected ([^,]+), found (.+)$/.exec(err.message ?? '');
    const detail = m ? ` (you saw ${m[1]}, it was ${String(m[2]).replace(/^\[|\]$/g, '')})` : '';
    return `${what} for ${name} refused: someone changed ${name}'s earnings first${detail}. Try again.`;
  }
  if (err.code === 'demo/earnings') return `${what} for ${name} refused: earnings are never negative.`;
  return `${what} for ${name} refused: ${err.message ?? String(e)}`;
}

interface Rejections {
  on?(fn: (e: { type: string; tx?: string; error?: unknown }) => void): () => void;
}

/** Per-person refusals and the compare-and-set `bump(name, from, by)` that may cause them. */
export function useRaises() {
  const client = useClient() as Rejections;
  const transact = useTransact();
  const [errors, setErrors] = useState<ReadonlyMap<string, string>>(new Map());
  const setError = (name: string, msg: string | null) =>
    setErrors((m) => {
      const next = new Map(m);
      if (msg === null) next.delete(name);
      else next.set(name, msg);
      return next;
    });
  useEffect(
    () =>
      client.on?.((e) => {
        if (e.type !== 'rejected' || !e.tx) return;
        const r = take(e.tx);
        if (r) setError(r.name, refusal(r.name, r.by, e.error));
      }),
    [client],
  );
  const bump = async (name: string, from: number, by: number, opts: { allowNegative?: boolean } = {}) => {
    if (from + by < 0 && !opts.allowNegative) return setError(name, refusal(name, by, { code: 'demo/earnings' }));
    try {
      setError(name, null);
      const r = (await transact([[':db/cas', [':thug/name', name], ':thug/earnings', from, from + by]])) as { tx?: string } | undefined;
      if (r?.tx) remember(r.tx, name, by);
    } catch (e) {
      setError(name, refusal(name, by, e));
    }
  };
  return { errors, setError, bump };
}
