-- Up Migration

-- The Feishu Task sweep reads the synced to-dos that are open, and those done in its window (the last 7 days), page by
-- page. The open ones have their index (0009); the done ones are read through this one, by when they were done, so a
-- page reads the window's few rows, not every to-do ever done.
CREATE INDEX todos_synced_done ON todos (done_at, id) WHERE task_synced AND status = 'done';

-- Down Migration

DROP INDEX todos_synced_done;
