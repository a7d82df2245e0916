import { useDraft, useQuery } from '@dataloom/react';
import { useState } from 'react';
import { THUGS } from '../ledger/data.js';
import { cap } from '../names.js';

const ROLE = '[:find ?role :in $ ?n :where [?e :thug/name ?n] [?e :thug/role ?role]]';
const REGION = '[:find ?r :in $ ?n :where [?e :thug/name ?n] [?e :thug/territory ?t] [?t :territory/name ?r]]';
const MANAGER = '[:find ?b :in $ ?n :where [?e :thug/name ?n] [?e :thug/boss ?m] [?m :thug/name ?b]]';
const PEOPLE = '[:find ?n :where [_ :thug/name ?n]]';

const first = (rows: readonly (readonly unknown[])[]) => (rows[0]?.[0] as string | undefined) ?? '';

/**
 * A profile form on a shared draft (`useDraft`): everyone who opens the same person's form edits
 * one draft and sees the others' keystrokes live; the ledger (main views) does not change until
 * someone commits, and a discard drops it for everyone.
 */
export default function ProfileForm() {
  const people = useQuery(PEOPLE).map((r) => String(r[0])).sort();
  const [who, setWho] = useState('');
  const person = who || people[0] || '';
  if (!person) return <p className="card muted">Load the sample team on the ledger first.</p>;
  return (
    <div className="screen">
      <label className="field" style={{ maxWidth: '18rem' }}>
        Profile of
        <select data-testid="form-person" value={person} onChange={(e) => setWho(e.target.value)}>
          {people.map((p) => (
            <option key={p} value={p}>
              {cap(p)}
            </option>
          ))}
        </select>
      </label>
      <Form key={person} person={person} people={people} />
    </div>
  );
}

function Form({ person, people }: { person: string; people: string[] }) {
  const id = `profile-${person}/edit`; // everyone editing this person's profile joins one draft
  const role = useDraft(id, ROLE, person);
  const region = useDraft(id, REGION, person);
  const manager = useDraft(id, MANAGER, person);
  const published = { role: first(useQuery(ROLE, person)), region: first(useQuery(REGION, person)), manager: first(useQuery(MANAGER, person)) };
  const draft = { role: first(role.rows as never), region: first(region.rows as never), manager: first(manager.rows as never) };
  const changed = draft.role !== published.role || draft.region !== published.region || draft.manager !== published.manager;
  // While this user types, the input shows what they typed; once their writes are in the draft,
  // it follows the draft again (collaborators' keystrokes included).
  const [typing, setTyping] = useState<{ value: string; pending: number } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const ref = [':thug/name', person];
  const write = (tx: unknown) => {
    setStatus(null);
    return role.transact(tx);
  };
  const onRole = (value: string) => {
    setTyping((t) => ({ value, pending: (t?.pending ?? 0) + 1 }));
    void write([[':db/add', ref, ':thug/role', value]]).finally(() => setTyping((t) => (t && t.pending > 1 ? { ...t, pending: t.pending - 1 } : null)));
  };
  const done = (what: string) => (p: Promise<unknown>) => p.then(() => setStatus(what), (e: Error) => setStatus(`Could not ${what.toLowerCase()}: ${e.message}`));

  return (
    <div className="grid-2">
      <section className="card" data-testid="profile-form">
        <div className="card-head">
          <h2>Draft</h2>
          <span className="pill">shared draft</span>
          <span className="spacer" />
          {changed && <span className="pill flag" data-testid="form-unpublished">unpublished changes</span>}
        </div>
        <form className="screen" onSubmit={(e) => e.preventDefault()}>
          <label className="field">
            Role
            <input data-testid="form-role" value={typing ? typing.value : draft.role} placeholder="e.g. Regional lead" onChange={(e) => onRole(e.target.value)} />
          </label>
          <label className="field">
            Region
            <select data-testid="form-region" value={draft.region} onChange={(e) => void write([{ ':db/id': ref, ':thug/territory': [':territory/name', e.target.value] }])}>
              {['east', 'west'].map((r) => (
                <option key={r} value={r}>
                  {cap(r)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            Reports to
            <select
              data-testid="form-manager"
              value={draft.manager}
              onChange={(e) => void write(e.target.value ? [{ ':db/id': ref, ':thug/boss': [':thug/name', e.target.value] }] : [[':db/retract', ref, ':thug/boss', [':thug/name', draft.manager]]])}
            >
              <option value="">Nobody</option>
              {people
                .filter((p) => p !== person)
                .map((p) => (
                  <option key={p} value={p}>
                    {cap(p)}
                  </option>
                ))}
            </select>
          </label>
          {role.conflicts.length > 0 && (
            <p className="notice" data-testid="form-conflicts">
              Someone published a change to a field you edited here since you started: committing will overwrite it.
            </p>
          )}
          <div className="actions">
            <button type="button" className="primary" data-testid="form-commit" disabled={!changed} onClick={() => void done('Committed')(role.commit())}>
              Commit
            </button>
            <button type="button" data-testid="form-discard" disabled={!changed} onClick={() => void done('Discarded')(role.discard())}>
              Discard
            </button>
            <button type="button" className="link" onClick={() => void role.undo()}>
              Undo
            </button>
            <button type="button" className="link" onClick={() => void role.redo()}>
              Redo
            </button>
          </div>
          {status && (
            <p className="notice ok" data-testid="form-status" role="status">
              {status}
            </p>
          )}
        </form>
      </section>
      <section className="card" data-testid="profile-published">
        <div className="card-head">
          <h2>Published</h2>
          <span className="pill">main database</span>
        </div>
        <table>
          <tbody>
            <tr>
              <th>Role</th>
              <td data-testid="published-role">{published.role || '—'}</td>
            </tr>
            <tr>
              <th>Region</th>
              <td data-testid="published-region">{cap(published.region)}</td>
            </tr>
            <tr>
              <th>Reports to</th>
              <td data-testid="published-manager">{published.manager ? cap(published.manager) : 'Nobody'}</td>
            </tr>
          </tbody>
        </table>
        <p className="muted">
          The ledger and every other main view read this side. The draft on the left is stored and synced like any change, offline too — but only
          commit makes it part of the books, in one transaction judged by the server.
        </p>
        <p className="muted">Sample team: {THUGS.length} people in two regions.</p>
      </section>
    </div>
  );
}
