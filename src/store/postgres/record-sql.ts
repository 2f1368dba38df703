import type { ChatSettings, Todo, TodoForm } from '../../domain/model';
import { formCardKey } from '../../domain/todo-form';
import { CLOSED_FORM_RETENTION_MS, EVENT_RETENTION_MS } from '../store';
import type { Statement } from './database';

/**
 * The SQL of the records: each table's written columns (what the queries need, taken from the record) and its reads.
 * A record is written only from the revision it was read at: `UPDATE … WHERE rev = <read>` for a stored one, `INSERT
 * … ON CONFLICT DO NOTHING` for a new one; no row written means another writer got there first.
 */

export type RecordCollection = 'forms' | 'todos' | 'chats';
type StoredRecord = TodoForm | Todo | ChatSettings;

const COLUMNS: { [C in RecordCollection]: { names: string[]; values(record: never): unknown[] } } = {
  forms: {
    names: ['chat_id', 'owner_id', 'status', 'expires_at', 'updated_at', 'card_key'],
    values: (f: TodoForm) => [f.chatId, f.ownerId, f.status, f.expiresAt, f.updatedAt, formCardKey(f.id)],
  },
  todos: {
    names: ['chat_id', 'creator_id', 'status', 'message_id', 'remind_at', 'card_message_id', 'done_at', 'task_guid', 'task_synced'],
    values: (t: Todo) => [
      t.chatId,
      t.creatorId,
      t.status,
      t.messageId ?? null,
      t.remindAt ?? null,
      t.currentCard?.messageId ?? null,
      t.doneAt ?? null,
      t.task?.guid ?? null,
      t.task !== undefined && t.task.deletedThere !== true,
    ],
  },
  chats: { names: [], values: () => [] },
};

/** Parameters of `insert`, or of `update` followed by the revision read. */
export function writeValues(collection: RecordCollection, written: StoredRecord): unknown[] {
  return [written.id, ...(COLUMNS[collection].values as (record: StoredRecord) => unknown[])(written), written.rev, JSON.stringify(written)];
}

const REMINDABLE = `remind_at IS NOT NULL AND status IN ('open', 'posting')`;
/**
 * A record to read a field of: json's `->` unescapes the whole document, and fails on the \u0000 escape a message's
 * text may hold (stored as written, see 0001). Replaced by \ufffd in a copy, the text is valid json whatever precedes it.
 */
const CLEANED = `replace(record::text, '\\u0000', '\\ufffd')::json`;

export function recordStatements(s: string) {
  const statement = (name: string, text: string): Statement => ({ name: `records.${name}`, text });
  const writes = Object.fromEntries(
    (Object.keys(COLUMNS) as RecordCollection[]).map((collection) => {
      const columns = ['id', ...COLUMNS[collection].names, 'rev', 'record'];
      const params = columns.map((_, i) => `$${i + 1}`);
      const insert = `INSERT INTO ${s}.${collection} (${columns.join(', ')}) VALUES (${params.join(', ')}) ON CONFLICT (id) DO NOTHING`;
      const sets = columns.slice(1).map((column, i) => `${column} = $${i + 2}`);
      const update = `UPDATE ${s}.${collection} SET ${sets.join(', ')} WHERE id = $1 AND rev = $${columns.length + 1}`;
      return [collection, { insert: statement(`${collection}.insert`, insert), update: statement(`${collection}.update`, update) }];
    }),
  ) as Record<RecordCollection, { insert: Statement; update: Statement }>;

  return {
    writes,
    /**
     * A commit's first statement (its only one for a push): $1 event id or null, $2 seen at, $3 lock key prefix, $4 the
     * lanes jobs are enqueued into, sorted (locked before any record's row lock in every commit, so commits never wait
     * on each other in a cycle), $5-$11 the jobs' columns (`newJobArrays`), $12 channel, $13 notice. Returns the jobs
     * enqueued, or -1 when the event was seen before (see migration 0005).
     */
    commitJobs: statement('commitJobs', `SELECT ${s}.commit_jobs($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) AS enqueued`),
    /**
     * `commitJobs` spending a point of a budget first: $1 its key, $2 its limit, $3 its window (ms), then `commitJobs`'
     * $1-$13 as $4-$16. Also returns -2 (the first commit past the budget in its window) or -3 (the ones after it),
     * having committed nothing else (see migration 0010).
     */
    commitBudgetedJobs: statement(
      'commitBudgetedJobs',
      `SELECT ${s}.commit_budgeted_jobs($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) AS enqueued`,
    ),
    /**
     * Pushes committed together (`GroupCommit`): $1 their budgets' keys, sorted, $2 lock key prefix, $3 their lanes,
     * sorted, $4 channel, $5 notice, then each push's budget (key or null, limit, window), event id and time, the ends
     * of its lanes and jobs and their columns (see migration 0011). Returns each push's answer, in order.
     */
    commitPushes: statement(
      'commitPushes',
      `SELECT ${s}.commit_pushes($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) AS answers`,
    ),
    byId: Object.fromEntries(
      (Object.keys(COLUMNS) as RecordCollection[]).map((c) => [c, statement(`${c}.byId`, `SELECT record FROM ${s}.${c} WHERE id = $1`)]),
    ) as Record<RecordCollection, Statement>,
    openForm: statement(
      'openForm',
      `SELECT record FROM ${s}.forms WHERE chat_id = $1 AND owner_id = $2 AND status = 'open' ORDER BY updated_at DESC, id DESC LIMIT 1`,
    ),
    /** $1 chat, $2 the command's message id: read from the record, among the chat's few open forms (forms_open_by_owner). */
    openFormOfCommand: statement(
      'openFormOfCommand',
      `SELECT record FROM ${s}.forms WHERE chat_id = $1 AND status = 'open' AND ${CLEANED} ->> 'commandMessageId' = $2 LIMIT 1`,
    ),
    formByCardKey: statement('formByCardKey', `SELECT record FROM ${s}.forms WHERE card_key = $1 ORDER BY updated_at DESC, id DESC LIMIT 1`),
    /** By its posted card or its current card (see migration 0007). */
    todoByMessage: statement('todoByMessage', `SELECT record FROM ${s}.todos WHERE message_id = $1 OR card_message_id = $1 ORDER BY seq DESC LIMIT 1`),
    todoByTaskGuid: statement('todoByTaskGuid', `SELECT record FROM ${s}.todos WHERE task_guid = $1 LIMIT 1`),
    /** $1 the last id of the previous page ('' for the first), $2 the page's size (see migration 0009). */
    /** $1 after id, $2 limit, $3 done since: the open ones and the recently done ones, each through its own index. */
    syncedTodos: statement(
      'syncedTodos',
      `SELECT id, record FROM (
         (SELECT id, record FROM ${s}.todos WHERE status = 'open' AND task_synced AND id > $1 ORDER BY id LIMIT $2)
         UNION ALL
         (SELECT id, record FROM ${s}.todos WHERE status = 'done' AND task_synced AND done_at >= $3 AND id > $1)
       ) AS synced ORDER BY id LIMIT $2`,
    ),
    /** Walks the open to-dos' index (todos_open_by_chat), one probe per chat. */
    chatsWithOpenTodos: statement(
      'chatsWithOpenTodos',
      `WITH RECURSIVE open_chats(chat_id) AS (
         (SELECT chat_id FROM ${s}.todos WHERE status = 'open' ORDER BY chat_id LIMIT 1)
         UNION ALL
         SELECT (SELECT t.chat_id FROM ${s}.todos t WHERE t.status = 'open' AND t.chat_id > c.chat_id ORDER BY t.chat_id LIMIT 1)
         FROM open_chats c WHERE c.chat_id IS NOT NULL
       ) SELECT chat_id FROM open_chats WHERE chat_id IS NOT NULL`,
    ),
    /** $1 chat, $2 since, $3 until. */
    todosDoneBetween: statement(
      'todosDoneBetween',
      `SELECT record FROM ${s}.todos WHERE chat_id = $1 AND status = 'done' AND done_at >= $2 AND done_at < $3 ORDER BY done_at, id`,
    ),
    openTodos: statement('openTodos', `SELECT record FROM ${s}.todos WHERE chat_id = $1 AND status = 'open' ORDER BY remind_at, seq`),
    latestPostedTodo: statement(
      'latestPostedTodo',
      `SELECT record FROM ${s}.todos WHERE chat_id = $1 AND message_id IS NOT NULL AND status <> 'recalled' ORDER BY seq DESC LIMIT 1`,
    ),
    /** $1 chat, $2 creator. */
    latestPostedTodoBy: statement(
      'latestPostedTodoBy',
      `SELECT record FROM ${s}.todos
       WHERE chat_id = $1 AND creator_id = $2 AND message_id IS NOT NULL AND status <> 'recalled' ORDER BY seq DESC LIMIT 1`,
    ),
    /** $1 chat, $2 topic, $3 creator or null: read from the record, walking the chat's to-dos newest first. */
    latestPostedTodoInThread: statement(
      'latestPostedTodoInThread',
      `SELECT record FROM ${s}.todos
       WHERE chat_id = $1 AND ${CLEANED} ->> 'threadId' = $2 AND ($3::text IS NULL OR creator_id = $3)
         AND message_id IS NOT NULL AND status <> 'recalled' ORDER BY seq DESC LIMIT 1`,
    ),
    nextDue: statement(
      'nextDue',
      `SELECT least((SELECT min(remind_at) FROM ${s}.todos WHERE ${REMINDABLE}), (SELECT min(expires_at) FROM ${s}.forms WHERE status = 'open')) AS at`,
    ),
    dueReminders: statement('dueReminders', `SELECT record FROM ${s}.todos WHERE ${REMINDABLE} AND remind_at <= $1 ORDER BY remind_at, id LIMIT $2`),
    expiredForms: statement('expiredForms', `SELECT record FROM ${s}.forms WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`),
    /** $1 now, $2 batch: at most $2 event ids and $2 forms removed, the oldest first (by their indexes). */
    prune: statement(
      'prune',
      `WITH events AS (
         DELETE FROM ${s}.events WHERE id IN (SELECT id FROM ${s}.events WHERE seen_at < $1::bigint - ${EVENT_RETENTION_MS} ORDER BY seen_at LIMIT $2)
         RETURNING 1
       ),
       forms AS (
         DELETE FROM ${s}.forms WHERE id IN (
           SELECT id FROM ${s}.forms WHERE status NOT IN ('open', 'submitting') AND updated_at < $1::bigint - ${CLOSED_FORM_RETENTION_MS}
           ORDER BY updated_at LIMIT $2
         )
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM forms) AS forms`,
    ),
    stats: statement(
      'stats',
      `SELECT (SELECT count(*) FROM ${s}.jobs) AS pending,
              (SELECT count(*) FROM ${s}.jobs WHERE lease_token IS NOT NULL AND lease_until > statement_timestamp()) AS running,
              (SELECT count(*) FROM ${s}.jobs WHERE attempts > 0) AS retrying,
              (SELECT created_at FROM ${s}.jobs ORDER BY seq LIMIT 1) AS oldest,
              (SELECT count(*) FROM ${s}.todos WHERE ${REMINDABLE}) AS reminders,
              (SELECT count(*) FROM ${s}.forms WHERE status = 'open') AS forms`,
    ),
  };
}

export type RecordStatements = ReturnType<typeof recordStatements>;
