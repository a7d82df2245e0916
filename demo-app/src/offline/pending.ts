/** The pending queue as the offline screen and the devtools show it: what each waiting transaction touches, and its age. */
import { usePendingTransactions } from '@dataloom/react';
import { useEffect, useState } from 'react';

const KINDS: Array<[RegExp, string]> = [
  [/^:?todo\//, 'a task'],
  [/^:?thug\/earnings/, 'revenue'],
  [/^:?thug\/rat/, 'a review flag'],
  [/^:?thug\//, 'a profile'],
  [/^:?territory\//, 'a region'],
  [/^:?note\//, 'the briefing'],
  [/^:?draft\//, 'a draft'],
  [/^:?memo\//, 'a memo'],
];

/** What a pending transaction touches, in words: "a task", "revenue, a review flag". */
export function what(attrs: readonly string[]): string {
  const kinds = new Set(attrs.map((a) => KINDS.find(([re]) => re.test(a))?.[1] ?? 'other data'));
  return [...kinds].join(', ');
}

/** Ages like "12 s", "3 min". */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h`;
}

/** "just now", "12 s ago", "3 min ago". */
export function ago(ms: number): string {
  return ms < 5_000 ? 'just now' : `${age(ms)} ago`;
}

/** The transactions waiting for the server (`@dataloom/react`'s hook, also the devtools'). */
export const usePending = usePendingTransactions;

/** Ticks every second, for ages. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

