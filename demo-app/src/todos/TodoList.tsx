import { useQuery, useTransact } from '@dataloom/react';
import { useMemo, useState, type FormEvent } from 'react';

const TODOS = `[:find ?id ?title ?done ?created
                :where [?e :todo/id ?id] [?e :todo/title ?title]
                       [?e :todo/done ?done] [?e :todo/created ?created]]`;
const OPEN = '[:find (count ?e) :where [?e :todo/done false]]';

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
  const run = (p: Promise<unknown>) => p.then(() => setError(null), (e: unknown) => setError(String((e as Error).message ?? e)));

  const add = (ev: FormEvent) => {
    ev.preventDefault();
    const t = title.trim();
    if (!t) return;
    setTitle('');
    void run(transact([{ ':todo/id': crypto.randomUUID(), ':todo/title': t, ':todo/done': false, ':todo/created': Date.now() }]));
  };

  return (
    <section className="card" data-testid="todos">
      <h2>
        Todos <small data-testid="open-count">{String(open[0]?.[0] ?? 0)} open</small>
      </h2>
      <form onSubmit={add}>
        <input data-testid="todo-input" value={title} onChange={(e) => setTitle(e.target.value)} placeholder="What needs doing?" />
        <button type="submit" data-testid="todo-add">Add</button>
      </form>
      {error && <p className="error" data-testid="todo-error">{error}</p>}
      <ul className="todos">
        {todos.map((t) => (
          <li key={t.id} data-testid="todo-item" className={t.done ? 'done' : ''}>
            <label>
              <input
                type="checkbox"
                checked={t.done}
                onChange={() => void run(transact([{ ':db/id': [':todo/id', t.id], ':todo/done': !t.done }]))}
              />
              <span data-testid="todo-title">{t.title}</span>
            </label>
            <button className="link" aria-label={`delete ${t.title}`} onClick={() => void run(transact([[':db/retractEntity', [':todo/id', t.id]]]))}>
              ✕
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
