-- Up Migration

-- When a to-do was marked done, as a column (`Todo.doneAt`): the daily digest's weekly numbers count each group's
-- to-dos done last week, read through the index below instead of every to-do the group ever had. Rows written before
-- it are given theirs from the record.
ALTER TABLE todos ADD COLUMN done_at bigint;
-- Read from a copy with the \u0000 escape replaced (see 0007).
UPDATE todos SET done_at = (replace(record::text, '\u0000', '\ufffd')::json ->> 'doneAt')::bigint WHERE status = 'done' AND replace(record::text, '\u0000', '\ufffd')::json ->> 'doneAt' IS NOT NULL;
CREATE INDEX todos_done_by_chat ON todos (chat_id, done_at) WHERE status = 'done';

-- Down Migration

DROP INDEX todos_done_by_chat;
ALTER TABLE todos DROP COLUMN done_at;
