import type { z } from 'zod';
import type { Todo } from '../../domain/model';
import { type Clock, type JobKind, newJob } from '../../jobs/registry';

/**
 * A job in the to-do's lane, named `<kind>:<todo id>:<suffix>` (the suffix tells occurrences apart). Its card's
 * updates, reminders, nudges and recall share the lane, whichever family's they are, so they run in the order they
 * were enqueued; task and feed-card jobs are named the same way but queue in lanes of their own.
 */
export function todoLaneJob<Name extends string, Schema extends z.ZodType>(
  clock: Clock,
  kind: JobKind<Name, Schema>,
  todo: Todo,
  payload: z.input<Schema>,
  suffix = String(clock.now()),
) {
  const at = clock.now();
  return newJob(kind, { id: `${kind.name}:${todo.id}:${suffix}`, lane: `todo:${todo.id}`, chatId: todo.chatId, payload, runAt: at, createdAt: at });
}
