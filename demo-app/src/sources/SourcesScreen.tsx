import { useEntity, useQuery, useSuspenseQuery } from '@dataloom/react';
import { useMemo, useState } from 'react';
import { cap, money } from '../names.js';

/** The leads the CRM feed wrote (server side), and the stages it moved them to. */
const LEADS = '[:find ?l ?id ?company ?region ?value :where [?l :lead/id ?id] [?l :lead/company ?company] [?l :lead/region ?region] [?l :lead/value ?value]]';
const STAGES = '[:find ?l ?stage ?at :where [?l :lead/stage ?stage] [?l :lead/updated ?at]]';
const ORDER = ['new', 'contacted', 'qualified', 'proposal', 'won'];

interface Lead {
  e: number;
  id: string;
  company: string;
  region: string;
  value: number;
  stage: string;
  at: number | null;
}


/**
 * Sources: rows that enter the log from outside the clients. With PostgreSQL a source mirrors a
 * table (`createServer({ sources: [{ postgres, tables }] })`); `npm start` runs on SQLite, so here
 * a back-end job next to the server (`startJobs` in `server.config.mjs`) reads a stand-in CRM and
 * writes its leads with `server.transact` — the same path, a trusted server-side write. The first
 * result suspends into the screen's loading fallback (`useSuspenseQuery`).
 */
export default function SourcesScreen() {
  const rows = useSuspenseQuery(LEADS);
  const stages = useQuery(STAGES);
  const [open, setOpen] = useState<number | null>(null);
  const leads = useMemo(() => {
    const by = new Map(stages.map((r) => [r[0] as number, { stage: String(r[1]), at: Number(r[2]) }]));
    return rows
      .map(([e, id, company, region, value]): Lead => ({ e: e as number, id: String(id), company: String(company), region: String(region), value: Number(value), stage: by.get(e as number)?.stage ?? 'new', at: by.get(e as number)?.at ?? null }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }, [rows, stages]);
  const pipeline = ORDER.map((s) => ({ stage: s, n: leads.filter((l) => l.stage === s).length, value: leads.filter((l) => l.stage === s).reduce((t, l) => t + l.value, 0) }));
  const last = Math.max(0, ...leads.map((l) => l.at ?? 0));
  return (
    <div className="screen" data-testid="sources">
      <div className="tiles pipeline">
        {pipeline.map((p) => (
          <div className="tile" key={p.stage} data-testid={`stage-${p.stage}`}>
            <div className="label">{p.stage}</div>
            <div className="value">{p.n}</div>
            <div className="muted hide-phone">{money(p.value)}</div>
          </div>
        ))}
      </div>
      <section className="card">
        <div className="card-head">
          <h2>Leads from the CRM</h2>
          <span className="pill">read-only: written by the server</span>
          <span className="spacer" />
          <span className="muted" data-testid="feed-last">{last ? `last update ${new Date(last).toLocaleTimeString()}` : 'no update from the feed yet'}</span>
        </div>
        <div className="table-scroll">
          <table data-testid="leads">
            <thead>
              <tr>
                <th scope="col">Company</th>
                <th scope="col" className="hide-phone">Region</th>
                <th scope="col" className="num">Value</th>
                <th scope="col">Stage</th>
              </tr>
            </thead>
            <tbody>
              {leads.map((l) => (
                <tr key={l.id} data-lead={l.id} data-stage={l.stage}>
                  <th>
                    <button className="link lead-name" aria-expanded={open === l.e} onClick={() => setOpen(open === l.e ? null : l.e)}>
                      {l.company}
                    </button>
                  </th>
                  <td className="hide-phone">{cap(l.region)}</td>
                  <td className="num">{money(l.value)}</td>
                  <td>
                    <span className={`pill stage-${l.stage}`}>{l.stage}</span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {open !== null && <LeadEntity e={open} />}
      </section>
      <section className="card">
        <div className="card-head">
          <h2>Where these rows come from</h2>
          <span className="pill">back-end job → server.transact</span>
        </div>
        <p className="muted">
          This demo runs on SQLite (<code>npm start</code>), so there is no PostgreSQL table to follow. Instead a back-end job next to the server —{' '}
          <code>startJobs</code> in <code>demo-app/server.config.mjs</code> — reads a stand-in CRM and writes its leads with <code>server.transact</code>, the
          server’s trusted write API; every 20 seconds it moves one lead to its next stage, and every browser sees it at once.
        </p>
        <p className="muted">
          With PostgreSQL the same rows would come from a table: <code>{'createServer({ sources: [{ postgres: url, tables: { leads: … } }] })'}</code> snapshots
          the table and follows its changes. Either way clients only read leads: the server’s write rule refuses a lead written by a browser.
        </p>
      </section>
    </div>
  );
}

/** Every attribute of one lead, live (`useEntity`): what the feed wrote, as the replica holds it. */
function LeadEntity({ e }: { e: number }) {
  const entity = useEntity(e);
  const attrs = entity instanceof Map ? [...entity].filter(([k]) => String(k) !== ':db/id') : [];
  return (
    <dl className="entity" data-testid="lead-entity">
      {attrs.map(([k, v]) => (
        <div key={String(k)}>
          <dt>{String(k)}</dt>
          <dd>{String(k) === ':lead/updated' ? new Date(Number(v)).toLocaleString() : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
