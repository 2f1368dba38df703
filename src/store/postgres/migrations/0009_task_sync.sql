-- Up Migration

-- A to-do's Feishu Task (`Todo.task`, src/domain/task-sync.ts). A task event names the task by its guid, so the to-do
-- is found by it; the reconcile sweep pages through the open to-dos whose task is not deleted in Feishu Task.
ALTER TABLE todos ADD COLUMN task_guid text;
ALTER TABLE todos ADD COLUMN task_synced boolean NOT NULL DEFAULT false;
-- Read from a copy with the \u0000 escape replaced (see 0007).
UPDATE todos SET task_guid = replace(record::text, '\u0000', '\ufffd')::json -> 'task' ->> 'guid',
                 task_synced = coalesce((replace(record::text, '\u0000', '\ufffd')::json -> 'task' ->> 'deletedThere')::boolean, false) = false
  WHERE replace(record::text, '\u0000', '\ufffd')::json -> 'task' ->> 'guid' IS NOT NULL;
CREATE INDEX todos_by_task_guid ON todos (task_guid) WHERE task_guid IS NOT NULL;
CREATE INDEX todos_synced_open ON todos (id) WHERE status = 'open' AND task_synced;

-- Down Migration

DROP INDEX todos_synced_open;
DROP INDEX todos_by_task_guid;
ALTER TABLE todos DROP COLUMN task_synced;
ALTER TABLE todos DROP COLUMN task_guid;
