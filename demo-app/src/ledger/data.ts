/**
 * The "Chicago outfit" seed scenario (issue 3, after clj-3df's Chicago example; the same ten
 * entities as `examples/chicago/scenario.ts`): two territories and eight thugs whose bosses form
 * a tree. Initial results: territory earnings east 1600 / west 1720; total earnings (own + all
 * subordinates') alfredo 1720, bernado 720, carlo 120, cristiano 100, aurora 1600, berta 700,
 * carla 125, corinna 125.
 */
interface Thug {
  name: string;
  territory: 'east' | 'west';
  boss?: string;
  earnings: number;
}

export const THUGS: readonly Thug[] = [
  { name: 'alfredo', territory: 'west', earnings: 1000 },
  { name: 'bernado', territory: 'west', boss: 'alfredo', earnings: 500 },
  { name: 'carlo', territory: 'west', boss: 'bernado', earnings: 120 },
  { name: 'cristiano', territory: 'west', boss: 'bernado', earnings: 100 },
  { name: 'aurora', territory: 'east', earnings: 900 },
  { name: 'berta', territory: 'east', boss: 'aurora', earnings: 450 },
  { name: 'carla', territory: 'east', boss: 'berta', earnings: 125 },
  { name: 'corinna', territory: 'east', boss: 'berta', earnings: 125 },
];

/** One transaction that (re)creates the scenario; idempotent thanks to unique identities (upsert). */
export function seedTx(): unknown[] {
  const tx: unknown[] = [
    { ':db/id': 'east', ':territory/name': 'east' },
    { ':db/id': 'west', ':territory/name': 'west' },
  ];
  for (const t of THUGS) {
    const m: Record<string, unknown> = {
      ':db/id': `thug:${t.name}`,
      ':thug/name': t.name,
      ':thug/territory': t.territory,
      ':thug/earnings': t.earnings,
    };
    if (t.boss) m[':thug/boss'] = `thug:${t.boss}`;
    tx.push(m);
  }
  return tx;
}
