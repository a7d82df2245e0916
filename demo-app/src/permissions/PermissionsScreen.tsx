/// <reference path="../env.d.ts" />
import { usePull, useQuery, useTransact, useTransactState } from '@dataloom/react';
import { useMemo, useState, type FormEvent } from 'react';
import RULES from '../../permissions.edn?raw';
import { USERS, currentUser, initials } from '../users.js';

/** The rules as the file has them (its header comment left out), `;;` comments dimmed. */
const RULE_LINES = RULES.slice(RULES.indexOf('\n[') + 1).trim().split('\n');

/** The memos this replica holds: the server sent only those the read rules let this user see. */
const MEMOS = '[:find ?m ?id ?created :where [?m :memo/id ?id] [?m :memo/created ?created]]';
const MEMO = '[:memo/text :memo/owner :memo/private? :memo/created]';

interface Memo {
  ':memo/text'?: string;
  ':memo/owner'?: string;
  ':memo/private?'?: boolean;
}

/** A pulled entity (a Map keyed by keywords) as a plain object keyed by `:ns/name`. */
function plain(pulled: unknown): Memo {
  const out: Record<string, unknown> = {};
  if (pulled instanceof Map) for (const [k, v] of pulled) out[String(k)] = v;
  return out as Memo;
}

/**
 * Permissions: memos that are private to their writer. The server's read rules
 * (`permissions.edn`) decide what each signed-in user's replica receives — a private memo of
 * Ann's never reaches Ben's browser, and making it private takes it back out of his replica.
 */
export default function PermissionsScreen() {
  const me = currentUser();
  const rows = useQuery(MEMOS);
  const { transact, error } = useTransactState();
  const [text, setText] = useState('');
  const [priv, setPriv] = useState(true);
  const memos = useMemo(() => [...rows].sort((a, b) => Number(b[2]) - Number(a[2])).map((r) => ({ e: r[0], id: String(r[1]) })), [rows]);
  const add = (ev: FormEvent) => {
    ev.preventDefault();
    const t = text.trim();
    if (!t || !me) return;
    setText('');
    void transact([{ ':memo/id': crypto.randomUUID(), ':memo/text': t, ':memo/owner': me.id, ':memo/private?': priv, ':memo/created': Date.now() }]);
  };
  return (
    <div className="screen" data-testid="permissions">
      <div className="grid-2">
        <section className="card">
          <div className="card-head">
            <h2>Memos</h2>
            <span className="pill" data-testid="memo-count">{memos.length} visible to you</span>
          </div>
          <form className="memo-form" onSubmit={add}>
            <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Write a memo…" aria-label="new memo" data-testid="memo-input" />
            <label className="check">
              <input type="checkbox" checked={priv} onChange={(e) => setPriv(e.target.checked)} data-testid="memo-private" /> private
            </label>
            <button type="submit" className="primary" data-testid="memo-add">
              Add
            </button>
          </form>
          {error && (
            <p className="notice" role="alert" data-testid="memo-error">
              {error.message}
            </p>
          )}
          {memos.length === 0 && <p className="empty">No memos you may read yet.</p>}
          <ul className="memos" data-testid="memos">
            {memos.map((m) => (
              <MemoItem key={m.id} e={m.e} id={m.id} me={me?.id ?? null} />
            ))}
          </ul>
        </section>
        <section className="card">
          <div className="card-head">
            <h2>The rules</h2>
            <span className="pill">Datalog, on the server</span>
          </div>
          <pre className="code" data-testid="rules">
            {RULE_LINES.map((line, i) => (
              <span key={i} className={line.trimStart().startsWith(';;') ? 'comment' : undefined}>
                {i > 0 ? `\n${line}` : line}
              </span>
            ))}
          </pre>
          <p className="muted">
            The server keeps, for each signed-in person, the set of entities these rules let them read — incrementally, as data changes — and sends each
            browser only those. A private memo is not hidden by the page: it never reaches another person’s replica.
          </p>
          <p className="muted">Writes are judged by the <code>can-write</code> rules on the server: only a memo’s owner edits, hides, deletes or hands it on; anyone else’s attempt is refused and rolls back in their browser.</p>
        </section>
      </div>
    </div>
  );
}

/** One memo, pulled live by id (`usePull`): its text, owner and privacy. */
function MemoItem({ e, id, me }: { e: unknown; id: string; me: string | null }) {
  const memo = plain(usePull(MEMO, e));
  const transact = useTransact();
  const owner = USERS.find((u) => u.id === memo[':memo/owner']);
  const mine = memo[':memo/owner'] === me;
  const priv = memo[':memo/private?'] === true;
  return (
    <li data-testid="memo" data-private={priv} data-owner={memo[':memo/owner']}>
      <span className="avatar" style={{ background: owner?.color ?? '#888' }} aria-hidden>
        {owner ? initials(owner) : '?'}
      </span>
      <div className="memo-body">
        <span className="memo-text">{memo[':memo/text']}</span>
        <span className="memo-meta">
          {mine ? 'you' : (owner?.name ?? String(memo[':memo/owner'] ?? '?'))} · <span className={`pill ${priv ? 'lock' : 'open'}`}>{priv ? 'private' : 'everyone'}</span>
        </span>
      </div>
      {mine && (
        <button className="small" data-testid="memo-toggle" onClick={() => void transact([{ ':memo/id': id, ':memo/private?': !priv }])}>
          {priv ? 'Share' : 'Make private'}
        </button>
      )}
    </li>
  );
}
