import { z } from 'zod';

/**
 * The values the bot's buttons carry in their callback behaviour. Cards write them through this schema and the
 * callback handler reads `action.value` back through it, so a value the bot never wrote is rejected, not guessed at.
 */
export const CardActionValue = z.discriminatedUnion('action', [
  z.object({ action: z.literal('todo.submit'), formId: z.string() }),
  z.object({ action: z.literal('todo.cancel'), formId: z.string() }),
  z.object({ action: z.literal('todo.done'), todoId: z.string() }),
  z.object({ action: z.literal('todo.reopen'), todoId: z.string() }),
  z.object({ action: z.literal('todo.snooze'), todoId: z.string() }),
  z.object({ action: z.literal('todo.tomorrow'), todoId: z.string() }),
]);
export type CardActionValue = z.infer<typeof CardActionValue>;
