import type { Todo } from '../src/domain/model';
import { benchTodo } from './todo-fixture';

/**
 * The to-do every measured click lands on: already done, so "Done" from its creator is answered from the store alone
 * ("Already done." and the card), with no outbound work to compete with the next click.
 */
export const CLICKED_TODO: Todo = {
  ...benchTodo(0, Date.UTC(2026, 10, 23)),
  status: 'done',
  doneBy: 'ou_user0',
  doneAt: Date.UTC(2026, 10, 23),
  remindAt: undefined,
};
