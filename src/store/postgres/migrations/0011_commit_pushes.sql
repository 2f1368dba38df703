-- Up Migration

-- Pushes committed together (a group commit): the pushes an instance received while its previous group was being
-- committed share one statement, one transaction and one WAL flush, instead of one each; the bot's CPU per push was
-- mostly the statement's cost (its round trip, the driver's work and the wake-ups around it), not the push's.
-- The pushes come as columns: a budget's key (null for none), limit and window, the event id and time of each push,
-- then all their lanes and all their jobs' columns (as commit_jobs takes them), `lane_ends` and `job_ends` saying where
-- each push's end. Each push is decided as if alone and in the order given, so a budget is spent exactly as one
-- statement per push would spend it; the answers come back in that order. A push refused (seen before, throttled)
-- does not refuse the others. The locks any commit takes are all taken first, in the order a commit of one push
-- takes them (budget rows, then lanes), each kind sorted by the caller: commits never wait on each other in a cycle.
CREATE FUNCTION commit_pushes(
  budget_keys text[], lock_prefix text, lanes text[], channel text, notice text,
  keys text[], limits integer[], windows bigint[], event_ids text[], seen_ats bigint[],
  lane_ends integer[], push_lanes text[],
  job_ends integer[], ids text[], kinds text[], job_lanes text[], chat_ids text[], payloads json[], run_ats bigint[], created_ats bigint[]
)
RETURNS integer[]
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  answers integer[] := '{}';
  first_lane integer := 1;
  first_job integer := 1;
  l integer;
  j integer;
BEGIN
  -- Locked, not spent: a new row's window is opened by the push that spends from it (its end unset until then).
  INSERT INTO command_throttle AS b (key, points, expire)
  SELECT k, 0, NULL FROM unnest(budget_keys) WITH ORDINALITY AS t(k, ord) ORDER BY ord
  ON CONFLICT (key) DO UPDATE SET points = b.points;
  PERFORM pg_advisory_xact_lock(hashtextextended(lock_prefix || t.l, 0)) FROM unnest(lanes) WITH ORDINALITY AS t(l, ord) ORDER BY ord;
  FOR i IN 1 .. cardinality(seen_ats) LOOP
    l := lane_ends[i];
    j := job_ends[i];
    answers := answers || CASE
      WHEN keys[i] IS NULL THEN commit_jobs(
        event_ids[i], seen_ats[i], lock_prefix, push_lanes[first_lane:l],
        ids[first_job:j], kinds[first_job:j], job_lanes[first_job:j], chat_ids[first_job:j], payloads[first_job:j],
        run_ats[first_job:j], created_ats[first_job:j], channel, notice)
      ELSE commit_budgeted_jobs(
        keys[i], limits[i], windows[i], event_ids[i], seen_ats[i], lock_prefix, push_lanes[first_lane:l],
        ids[first_job:j], kinds[first_job:j], job_lanes[first_job:j], chat_ids[first_job:j], payloads[first_job:j],
        run_ats[first_job:j], created_ats[first_job:j], channel, notice)
    END;
    first_lane := l + 1;
    first_job := j + 1;
  END LOOP;
  RETURN answers;
END;
$$;

-- Down Migration

DROP FUNCTION commit_pushes(
  text[], text, text[], text, text, text[], integer[], bigint[], text[], bigint[], integer[], text[],
  integer[], text[], text[], text[], text[], json[], bigint[], bigint[]
);
