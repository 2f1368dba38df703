-- Up Migration

-- A push's command budget spent in the statement that commits it (`Commit.budget`): a stored push is one round trip
-- instead of two (rate-limiter-flexible's upsert into command_throttle, then commit_jobs). The budget's row keeps
-- that table's shape (a window's points and its end, in ms), so the clicks' limiter, which stays the library's, and
-- its sweep of ended windows share it; windows are timed on the commit's `seen_at`. A repeated delivery spends
-- nothing: it gives back the point it took.
-- Returns what commit_jobs returns (the jobs enqueued, or -1 for an event seen before), or without committing
-- anything but the point spent: -2 for the first commit past the budget in its window, -3 for the ones after it.
CREATE FUNCTION commit_budgeted_jobs(
  budget_key text, budget_limit integer, budget_window bigint,
  event_id text, seen_at bigint, lock_prefix text, lanes text[],
  ids text[], kinds text[], job_lanes text[], chat_ids text[], payloads json[], run_ats bigint[], created_ats bigint[],
  channel text, notice text
)
RETURNS integer
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  spent integer;
  enqueued integer;
BEGIN
  -- The budget's row first: its lock makes a person's commits take turns, so a delivery of an event committed by
  -- another at the same time is seen below (each statement of the function reads what committed before it began).
  INSERT INTO command_throttle AS b (key, points, expire) VALUES (budget_key, 1, seen_at + budget_window)
  ON CONFLICT (key) DO UPDATE SET
    points = CASE WHEN b.expire IS NULL OR b.expire <= seen_at THEN 1 ELSE b.points + 1 END,
    expire = CASE WHEN b.expire IS NULL OR b.expire <= seen_at THEN seen_at + budget_window ELSE b.expire END
  RETURNING points INTO spent;
  IF event_id IS NOT NULL AND EXISTS (SELECT 1 FROM events WHERE id = event_id) THEN
    UPDATE command_throttle SET points = points - 1 WHERE key = budget_key;
    RETURN -1;
  END IF;
  IF spent > budget_limit THEN
    RETURN CASE WHEN spent = budget_limit + 1 THEN -2 ELSE -3 END;
  END IF;
  enqueued := commit_jobs(event_id, seen_at, lock_prefix, lanes, ids, kinds, job_lanes, chat_ids, payloads, run_ats, created_ats, channel, notice);
  IF enqueued = -1 THEN
    -- Committed meanwhile without a budget (an import, a commit of another kind): the same event, no new command.
    UPDATE command_throttle SET points = points - 1 WHERE key = budget_key;
  END IF;
  RETURN enqueued;
END;
$$;

-- Down Migration

DROP FUNCTION commit_budgeted_jobs(text, integer, bigint, text, bigint, text, text[], text[], text[], text[], text[], json[], bigint[], bigint[], text, text);
