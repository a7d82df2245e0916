/**
 * The "Chicago outfit" seed scenario (issue 3): ten thugs in two territories, bosses forming a tree.
 * Initial results: territory earnings east 1600 / west 1720; total earnings (own + all
 * subordinates') 1720, 720, 120, 100, 1600, 700, 125, 125 for the eight thugs who earn.
 */
interface Thug {
  name: string;
  territory?: 'east' | 'west';
  boss?: string;
  earnings?: number;
  rat?: boolean;
}

export const THUGS: readonly Thug[] = [
  { name: 'Big Al', territory: 'west', earnings: 1000 },
  { name: 'Frankie Nitti', territory: 'west', boss: 'Big Al', earnings: 600 },
  { name: 'Jake Guzik', territory: 'west', boss: 'Frankie Nitti', earnings: 120 },
  { name: 'Jack McGurn', territory: 'west', boss: 'Big Al', rat: true },
  { name: 'Bugs Moran', territory: 'east', earnings: 800 },
  { name: 'Hymie Weiss', territory: 'east', boss: 'Bugs Moran', earnings: 450 },
  { name: 'Vinnie Drucci', territory: 'east', boss: 'Hymie Weiss', earnings: 125 },
  { name: 'Pete Gusenberg', territory: 'east', boss: 'Hymie Weiss', earnings: 125 },
  { name: 'Frank Gusenberg', territory: 'east', boss: 'Bugs Moran', earnings: 100 },
  { name: 'Murray Humphreys' },
];

/** One transaction that (re)creates the scenario; idempotent thanks to unique identities (upsert). */
export function seedTx(): unknown[] {
  const tx: unknown[] = [
    { ':db/id': 'east', ':territory/name': 'east' },
    { ':db/id': 'west', ':territory/name': 'west' },
  ];
  for (const t of THUGS) {
    const m: Record<string, unknown> = { ':db/id': `thug:${t.name}`, ':thug/name': t.name };
    if (t.territory) m[':thug/territory'] = t.territory;
    if (t.boss) m[':thug/boss'] = `thug:${t.boss}`;
    if (t.earnings !== undefined) m[':thug/earnings'] = t.earnings;
    if (t.rat) m[':thug/rat?'] = true;
    tx.push(m);
  }
  return tx;
}
