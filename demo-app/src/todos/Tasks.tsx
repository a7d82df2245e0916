import { CollabNote } from '../notes/CollabNote.js';
import { TodoList } from './TodoList.js';

/** Tasks and the team's briefing note, side by side (stacked on a phone). */
export default function Tasks() {
  return (
    <div className="grid-2">
      <TodoList />
      <CollabNote />
    </div>
  );
}
