/** The pending queue as the offline screen and the devtools show it: what each waiting transaction touches, and its age. */
import { useClient, useSyncStatus } from '@dataloom/react';
import { useEffect, useState } from 'react';

interface PendingTx {
  tx: string;
  at: number;
  attrs: string[];
  draft: string | null;
}

interface WithPending {
  pending?(): Promise<PendingTx[]>;
}

const KINDS: Array<[RegExp, string]> = [
  [/^:?todo\//, 'a task'],
  [/^:?thug\/earnings/, 'revenue'],
  [/^:?thug\/rat/, 'a review flag'],
  [/^:?thug\//, 'a profile'],
  [/^:?territory\//, 'a region'],
  [/^:?note\//, 'the briefing'],
  [/^:?draft\//, 'a draft'],
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

/** The transactions waiting for the server, re-read whenever the sync status changes. */
export function usePending(): PendingTx[] | null {
  const client = useClient() as WithPending;
  const status = useSyncStatus();
  const [rows, setRows] = useState<PendingTx[] | null>(null);
  useEffect(() => {
    if (!client.pending) return;
    let live = true;
    void client.pending().then((r) => live && setRows(r));
    return () => {
      live = false;
    };
  }, [client, status]);
  return rows;
}

/** Ticks every second, for ages. */
export function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

