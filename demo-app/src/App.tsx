import { DataloomProvider, trackErrors, useSyncStatus, type ErrorLog } from '@dataloom/react';
import { Suspense, lazy, useEffect, useMemo, useState } from 'react';
import type { Engine } from './engine.js';
import { LAZY, SCREENS, type ScreenDef } from './shell/screens.js';
import { SyncBadge } from './status/SyncBadge.js';
import { USERS, initials, signOut, type DemoUser } from './users.js';

/** What names an entity for people, in the errors hooks surface (useTransactState). */
const ENTITY_NAMES = [':thug/name', ':todo/title', ':memo/text', ':lead/company', ':territory/name'];

/** The app for one signed-in user and open engine. */
export function App({ initial: engine }: { initial: Engine }) {
  // errors are collected from the start, so the devtools show what happened before they opened
  const errors = useMemo(() => trackErrors(engine.client as never), [engine]);
  useEffect(() => () => errors.stop(), [errors]);
  return (
    <DataloomProvider client={engine.client} entityNames={ENTITY_NAMES}>
      <Shell engine={engine} errors={errors} />
    </DataloomProvider>
  );
}

/**
 * "Work offline": the client's `setOffline`, which holds for the whole replica — every tab of this
 * browser signed in as this user shares one replica and one outbox, so they all stop syncing and
 * all show it — and is stored with the replica (still offline after a reload).
 */
function OfflineSwitch({ engine }: { engine: Engine }) {
  const status = useSyncStatus();
  const [busy, setBusy] = useState(false);
  const offline = engine.url === null || status?.state === 'stopped';
  return (
    <label className="switch" title="Stops syncing in every tab of this browser that shares this replica; changes wait in its outbox">
      <input
        type="checkbox"
        data-testid="offline-toggle"
        checked={offline}
        disabled={busy || engine.url === null}
        onChange={() => {
          setBusy(true);
          void engine.client.setOffline(!offline).finally(() => setBusy(false));
        }}
      />{' '}
      Work offline <small>all tabs</small>
    </label>
  );
}

const Devtools = lazy(() => import('./devtools/Devtools.js'));
const DEVTOOLS = 'dataloom-demo:devtools';

/** Whether the devtools panel is open (per tab, across reloads; `?devtools` opens it). */
function useDevtoolsOpen(): [boolean, (v: boolean) => void] {
  const [open, setOpen] = useState(() => sessionStorage.getItem(DEVTOOLS) === '1' || new URLSearchParams(location.search).has('devtools'));
  const set = (v: boolean) => {
    sessionStorage.setItem(DEVTOOLS, v ? '1' : '0');
    setOpen(v);
  };
  return [open, set];
}

/** The screen named by the location hash (`#/tasks`), the ledger by default. */
function useScreen(): ScreenDef {
  const read = () => SCREENS.find((s) => `#/${s.id}` === location.hash) ?? SCREENS[0]!;
  const [screen, setScreen] = useState(read);
  useEffect(() => {
    const on = () => setScreen(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return screen;
}

export function Shell(props: { engine: Engine; errors: ErrorLog }) {
  const { engine, errors } = props;
  const [devtools, setDevtools] = useDevtoolsOpen();
  const screen = useScreen();
  // on a phone the nav scrolls sideways: keep the current screen's link in view
  useEffect(() => {
    document.querySelector('nav.screens a[aria-current]')?.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
  }, [screen]);
  const user = USERS.find((u) => u.id === engine.user);
  const Screen = LAZY.get(screen.id)!;
  // wide: the guide is the right-hand panel; narrower: a compact "Try this" above the screen's content
  const narrow = useMedia(NARROW);
  return (
    <>
      <header className="topbar">
        <div className="brand">
          <img src="/icon.svg" alt="" /> Loomwork <small>a Dataloom demo</small>
        </div>
        <SyncBadge engine={engine} />
        <OfflineSwitch engine={engine} />
        <button className="small ghost" data-testid="devtools-toggle" aria-pressed={devtools} onClick={() => setDevtools(!devtools)}>
          Devtools
        </button>
        {user && <UserChip user={user} />}
      </header>
      {devtools && (
        <Suspense fallback={null}>
          <Devtools errors={errors} onClose={() => setDevtools(false)} />
        </Suspense>
      )}
      <div className="layout">
        <nav className="screens" aria-label="screens">
          {SCREENS.map((s) => (
            <a key={s.id} href={`#/${s.id}`} data-testid={`nav-${s.id}`} aria-current={s.id === screen.id ? 'page' : undefined}>
              <span className="icon" aria-hidden>{s.icon}</span>
              {s.title}
            </a>
          ))}
        </nav>
        <main className="screen" data-testid={`screen-${screen.id}`}>
          <div className="screen-head">
            <h1>{screen.title}</h1>
            <p>{screen.blurb}</p>
          </div>
          {narrow && <Guide key={screen.id} screen={screen} engine={engine} compact />}
          <Suspense fallback={<p className="muted" data-testid="screen-loading">loading…</p>}>
            <Screen />
          </Suspense>
        </main>
        {!narrow && <Guide screen={screen} engine={engine} />}
      </div>
    </>
  );
}

function UserChip({ user }: { user: DemoUser }) {
  return (
    <div className="user-chip" data-testid="user">
      <span className="avatar" style={{ background: user.color }} aria-hidden>{initials(user)}</span>
      <span className="who">{user.name}</span>
      <button
        className="small"
        onClick={() => {
          signOut();
          location.reload();
        }}
      >
        Switch user
      </button>
    </div>
  );
}

/** Below this width the layout has no right-hand column (styles.css). */
const NARROW = '(max-width: 1100px)';

/** Whether a media query matches, following changes (false where there is no `matchMedia`). */
function useMedia(query: string): boolean {
  const get = () => typeof matchMedia === 'function' && matchMedia(query).matches;
  const [matches, setMatches] = useState(get);
  useEffect(() => {
    if (typeof matchMedia !== 'function') return;
    const list = matchMedia(query);
    const on = () => setMatches(list.matches);
    on();
    list.addEventListener('change', on);
    return () => list.removeEventListener('change', on);
  }, [query]);
  return matches;
}

const GUIDE_CLOSED = 'dataloom-demo:guide-closed';

/** The screens whose compact guide this browser closed (localStorage; open on a screen's first visit). */
function closedGuides(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(GUIDE_CLOSED) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The guided panel: what to try on this screen. Wide, the right-hand panel, always open; narrow
 * (`compact`), a collapsible "Try this" above the screen's content, where a new user sees it first:
 * open on a screen's first visit, and closed again after a reload once closed there.
 */
function Guide({ screen, engine, compact = false }: { screen: ScreenDef; engine: Engine; compact?: boolean }) {
  const [open, setOpen] = useState(() => !compact || !closedGuides().includes(screen.id));
  const steps = (
    <>
      <ol>
        {screen.tryThis.map((t) => (
          <li key={t}>{t}</li>
        ))}
      </ol>
      <p className="tip" data-testid="engine-kind">
        {`replica in IndexedDB${engine.worker ? ', in a Web Worker' : ''}`}
      </p>
    </>
  );
  if (!compact) {
    return (
      <aside className="guide card" data-testid="guide" aria-label="what to try">
        <h3>Try this</h3>
        {steps}
      </aside>
    );
  }
  return (
    <details
      className="guide compact card"
      data-testid="guide"
      aria-label="what to try"
      open={open}
      onToggle={(e) => {
        const now = e.currentTarget.open;
        if (now === open) return;
        setOpen(now);
        const closed = closedGuides().filter((id) => id !== screen.id);
        localStorage.setItem(GUIDE_CLOSED, JSON.stringify(now ? closed : [...closed, screen.id]));
      }}
    >
      <summary data-testid="guide-toggle">
        <h3>Try this</h3>
        <span className="when-closed">{`${screen.tryThis.length} steps`}</span>
        <span className="when-open">hide</span>
      </summary>
      {steps}
    </details>
  );
}
