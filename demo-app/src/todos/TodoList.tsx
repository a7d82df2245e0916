import { useQuery, useTransact } from '@dataloom/react';
import { useMemo, useState, type FormEvent } from 'react';

const TODOS = `[:find ?id ?title ?done ?created
                :where [?e :todo/id ?id] [?e :todo/title ?title]
                       [?e :todo/done ?done] [?e :todo/created ?created]]`;
const OPEN = '[:find (count ?e) :where [?e :todo/done false]]';

interface Todo {
  id: string;
  title: string;
  done: boolean;
  created: number;
}

/** A todo list on live queries: every change — local, another tab, another device — shows at once. */
export function TodoList() {
  const rows = useQuery(TODOS);
  const open = useQuery(OPEN);
  const transact = useTransact();
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  const todos = useMemo(
    () =>
      rows
        .map(([id, title, done, created]) => ({ id: id as string, title: title as string, done: done as boolean, created: created as number }))
        .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id)),
    [rows],
  );
  const run = (p: unknown) => Promise.resolve(p).then(() => setError(null), (e: unknown) => setError(String((e as Error).message ?? e)));

  const add = (ev: FormEvent) => {
    ev.preventDefault();
    const t = title.trim();
    if (!t) return;
    setTitle('');
    void run(transact([{ ':todo/id': crypto.randomUUID(), ':todo/title': t, ':todo/done': false, ':todo/created': Date.now() }]));
  };

  return (
    <section className="card" data-testid="todos">
      <div className="card-head">
        <h2>Tasks</h2>
        <span className="pill" data-testid="open-count">{String(open[0]?.[0] ?? 0)} open</span>
      </div>
      <form onSubmit={add} className="row">
        <input data-testid="todo-input" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="What needs doing?" aria-label="new task" />
        <button type="submit" className="primary" data-testid="todo-add">Add</button>
      </form>
      {error && <p className="error" data-testid="todo-error">{error}</p>}
      {todos.length === 0 && <p className="empty">No tasks yet.</p>}
      <ul className="todos">
        {todos.map((t) => (
          <TodoItem key={t.id} todo={t} run={run} />
        ))}
      </ul>
    </section>
  );
}

function TodoItem({ todo: t, run }: { todo: Todo; run: (p: unknown) => Promise<void> }) {
  const transact = useTransact();
  const [editing, setEditing] = useState<string | null>(null);
  const save = (ev?: FormEvent) => {
    ev?.preventDefault();
    const next = editing?.trim();
    setEditing(null);
    if (next && next !== t.title) void run(transact([{ ':db/id': [':todo/id', t.id], ':todo/title': next }]));
  };
  return (
    <li data-testid="todo-item" className={t.done ? 'done' : ''}>
      <input
        type="checkbox"
        aria-label={`done ${t.title}`}
        checked={t.done}
        onChange={() => void run(transact([{ ':db/id': [':todo/id', t.id], ':todo/done': !t.done }]))}
      />
      {editing === null ? (
        <span data-testid="todo-title" className="todo-title" onDoubleClick={() => setEditing(t.title)}>
          {t.title}
        </span>
      ) : (
        <form onSubmit={save} className="todo-title">
          <input
            data-testid="todo-edit"
            aria-label={`rename ${t.title}`}
            autoFocus
            value={editing}
            onChange={(e) => setEditing(e.target.value)}
            onBlur={() => save()}
            onKeyDown={(e) => e.key === 'Escape' && setEditing(null)}
          />
        </form>
      )}
      <button className="link" aria-label={`rename ${t.title}`} data-testid="todo-rename" onClick={() => setEditing(t.title)}>
        ✎
      </button>
      <button className="link" aria-label={`delete ${t.title}`} onClick={() => void run(transact([[':db/retractEntity', [':todo/id', t.id]]]))}>
        ✕
      </button>
    </li>
  );
}
