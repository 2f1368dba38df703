import { z } from 'zod';
import { LANGUAGES } from '../src/domain/languages';

/**
 * The values the bot's buttons carry in their callback behaviour. Cards write them through this schema and the
 * callback handler reads `action.value` back through it, so a value the bot never wrote is rejected, not guessed at.
 */
export const CardActionValue = z.discriminatedUnion('action', [
  z.object({ action: z.literal('todo.submit'), formId: z.string() }),
  z.object({ action: z.literal('todo.cancel'), formId: z.string() }),
  /** `on: 'nudge'` on an overdue nudge's buttons, so that the card it becomes keeps the nudge's title. */
  z.object({ action: z.literal('todo.done'), todoId: z.string(), on: z.literal('nudge').optional() }),
  z.object({ action: z.literal('todo.reopen'), todoId: z.string() }),
  z.object({ action: z.literal('todo.snooze'), todoId: z.string(), on: z.literal('nudge').optional() }),
  z.object({ action: z.literal('todo.tomorrow'), todoId: z.string(), on: z.literal('nudge').optional() }),
  /** Done on a line of the daily digest. */
  z.object({ action: z.literal('todo.digestDone'), todoId: z.string() }),
  /** Done on a line of `/todos`' list, which a topic group's member gets by direct message. */
  z.object({ action: z.literal('todo.listDone'), todoId: z.string() }),
  /**
   * The settings form's Save: the group it was opened for, the language it is written in, and the values the form
   * showed, so that only what the admin changed on it is saved, not what another admin changed since it opened.
   */
  z.object({
    action: z.literal('settings.save'),
    chatId: z.string(),
    lang: z.enum(LANGUAGES),
    shown: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
  }),
]);
export type CardActionValue = z.infer<typeof CardActionValue>;
