/**
 * The demo's users: sign-in is picking one of them (no password — this is a demo). The choice is
 * kept per tab (two windows can be two people) and becomes the sync token, so the server knows
 * who writes (drafts' authors) — `server.config.mjs` accepts exactly these ids.
 */
export interface DemoUser {
  id: string;
  name: string;
  role: string;
  /** Avatar colour. */
  color: string;
}

export const USERS: readonly DemoUser[] = [
  { id: 'ann', name: 'Ann Ortiz', role: 'Team lead', color: '#3b6ef5' },
  { id: 'ben', name: 'Ben Okafor', role: 'Account manager', color: '#e0763c' },
  { id: 'cleo', name: 'Cleo Park', role: 'Analyst', color: '#2f9e6e' },
];

const KEY = 'dataloom-demo:user';

/** The signed-in user: `?user=<id>` (tests, shared links), else this tab's choice, else null. */
export function currentUser(loc: Location = location): DemoUser | null {
  const id = new URLSearchParams(loc.search).get('user') ?? sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
  return USERS.find((u) => u.id === id) ?? null;
}

export function signIn(user: DemoUser): void {
  sessionStorage.setItem(KEY, user.id);
  localStorage.setItem(KEY, user.id);
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
  const url = new URL(location.href);
  url.searchParams.delete('user');
  history.replaceState(null, '', url);
}

export const initials = (u: DemoUser) => u.name.split(' ').map((p) => p[0]).join('');
