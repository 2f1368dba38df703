import { RECORD_VERSION, type Todo } from '../src/domain/model';

export const DAY = 24 * 60 * 60 * 1000;

/** The i-th to-do of a generated data set: open, two assignees, a reminder within a month. Kept dependency-free so
 * the footprint child measures the bot's memory, not the benchmark's. */
export function benchTodo(i: number, now: number, id = `todo_${i.toString(36).padStart(8, '0')}`): Todo {
  return {
    v: RECORD_VERSION,
    id,
    formId: `form_old_${i}`,
    chatId: `oc_chat${i % 100}`,
    creatorId: `ou_user${i % 1000}`,
    text: `Ship the release notes for milestone ${i}`,
    remindAt: now + ((i % 30) + 1) * DAY,
    timeZone: 'Asia/Shanghai',
    assigneeIds: [`ou_user${(i + 1) % 1000}`, `ou_user${(i + 2) % 1000}`],
    status: 'open',
    messageId: `om_${i}`,
    createdAt: now,
    updatedAt: now,
  };
}
