/** The demo's screens: one per capability, each its own chunk (loaded when first shown). */
import { lazy, type ComponentType } from 'react';

export interface ScreenDef {
  id: string;
  title: string;
  icon: string;
  /** One line under the title: what this screen shows. */
  blurb: string;
  /** The guided panel: what to try here, in order. */
  tryThis: string[];
  load: () => Promise<{ default: ComponentType }>;
}

export const SCREENS: readonly ScreenDef[] = [
  {
    id: 'ledger',
    title: 'Team ledger',
    icon: '▦',
    blurb: 'Live queries: revenue per region (an aggregate) and each person’s team total (a recursive rule), maintained incrementally as anyone changes anything.',
    tryThis: [
      'Press “Load sample team” if the ledger is empty.',
      'Open this page in a second window signed in as someone else, side by side.',
      'Raise Corinna by 100 in one window: her region, Berta’s and Aurora’s team totals move in both windows at once.',
      'Flag someone for review and watch the flag appear in the other window.',
    ],
    load: () => import('../ledger/Ledger.js'),
  },
  {
    id: 'tasks',
    title: 'Tasks & briefing',
    icon: '☑',
    blurb: 'A shared task list on live queries, and a briefing note several people type into at once — merged character by character.',
    tryThis: [
      'Add a task; double-click a task (or ✎) to rename it.',
      'Type in the briefing while a collaborator types in theirs: nobody’s caret jumps.',
      'Go offline (top bar), add tasks, come back online: they sync.',
    ],
    load: () => import('../todos/Tasks.js'),
  },
  {
    id: 'rules',
    title: 'Business rules',
    icon: '⚖',
    blurb: 'Rules the server enforces for every client, online or after an offline spell: a refused change rolls back and says why, by name.',
    tryThis: [
      'Try a negative revenue entry: the server refuses it and it rolls back.',
      'Race two raises from two windows (or one of them offline): one wins, the other is refused next to the person’s name.',
    ],
    load: () => import('../rules/Rules.js'),
  },
  {
    id: 'form',
    title: 'Shared form',
    icon: '✎',
    blurb: 'A profile form whose draft your collaborators see as you type; nothing reaches the ledger until someone commits it.',
    tryThis: [
      'Pick a person and change their role or region: the ledger does not change yet.',
      'Open the same person in a second window: you both edit one draft, live.',
      'Commit to publish it in one transaction, or discard it for everyone.',
    ],
    load: () => import('../form/ProfileForm.js'),
  },
  {
    id: 'permissions',
    title: 'Permissions',
    icon: '◐',
    blurb: 'The server decides what each person’s browser receives: a private memo never reaches anyone else’s replica — not hidden, absent.',
    tryThis: [
      'Write a private memo as Ann and a shared one.',
      'Open a second window signed in as Ben (Switch user): he sees the shared memo, not the private one.',
      'Share Ann’s private memo: it appears for Ben. Make it private again: it leaves his replica.',
    ],
    load: () => import('../permissions/PermissionsScreen.js'),
  },
  {
    id: 'sources',
    title: 'Sources',
    icon: '⇲',
    blurb: 'Data that comes from outside the app: a CRM feed written by the server. Every browser sees it live and cannot change it.',
    tryThis: [
      'Watch a lead move to its next stage (every 20 s) in every open window.',
      'Click a company to see the entity as the feed wrote it (useEntity).',
      'Read below where the rows come from, and how a PostgreSQL table would feed them instead.',
    ],
    load: () => import('../sources/SourcesScreen.js'),
  },
  {
    id: 'history',
    title: 'History & undo',
    icon: '↺',
    blurb: 'Every change is kept: slide back through time to see the data as of any transaction, and undo or redo your own changes.',
    tryThis: [
      'Make a few changes on other screens, then drag the slider back.',
      'Undo your last change — others’ later changes are left alone — and redo it.',
    ],
    load: () => import('../history/HistoryScreen.js'),
  },
  {
    id: 'offline',
    title: 'Offline',
    icon: '⇅',
    blurb: 'The replica lives in this browser (IndexedDB, in a Web Worker): the app works offline, keeps a queue of pending changes, and syncs when back.',
    tryThis: [
      'Switch “Work offline” on and make changes: they wait in the queue below, with their age. Every tab of this browser goes offline with it (they share the queue).',
      'Reload the page while offline: the app and the queue are still here.',
      'Switch back online and watch the queue drain.',
    ],
    load: () => import('../offline/OfflineScreen.js'),
  },
];

/** Each screen's component, loaded once (React.lazy). */
export const LAZY = new Map(SCREENS.map((s) => [s.id, lazy(s.load)]));
