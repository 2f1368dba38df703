-- Up Migration

-- rate_acquire (0002) read the clock when it was called, before waiting for the rows other callers held: a permit
-- granted after such a wait was timed from before it, so its caller slept too long (or not at all, its time already
-- past) and its call went out together with the next permits' (through three instances, a 51st ephemeral send within
-- one second, where Feishu allows 50 and the spacing 47). The same function, reading the clock once the rows are
-- locked, and also saying how long it waited for them (`held_ms`), so that a caller can tell how late it uses its
-- permit from its own clock (see rate-limiter.ts). Callers that select the first three columns are unaffected.
DROP FUNCTION rate_acquire(text[], double precision[], double precision[], integer[], double precision);
CREATE FUNCTION rate_acquire(keys text[], spacings double precision[], windows double precision[], caps integer[], max_wait_ms double precision)
RETURNS TABLE (granted boolean, at double precision, wait_ms double precision, held_ms double precision)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  now_ms double precision;
  slot double precision;
  locked integer;
  limit_row rate_limits%ROWTYPE;
  ring_at double precision;
  i integer;
BEGIN
  -- A row may be swept between the insert and the lock: then insert and lock again.
  LOOP
    INSERT INTO rate_limits (key) SELECT k FROM unnest(keys) AS k ORDER BY k ON CONFLICT (key) DO NOTHING;
    SELECT count(*) INTO locked FROM (SELECT 1 FROM rate_limits WHERE key = ANY (keys) ORDER BY key FOR UPDATE) AS l;
    EXIT WHEN locked = cardinality(keys);
  END LOOP;
  -- The clock is read once the rows are ours: a caller that waited for another's permit is timed from now.
  now_ms := extract(epoch FROM clock_timestamp()) * 1000;
  slot := now_ms;
  FOR i IN 1 .. cardinality(keys) LOOP
    SELECT * INTO limit_row FROM rate_limits WHERE key = keys[i];
    IF caps[i] IS NULL THEN
      slot := greatest(slot, limit_row.tat);
    ELSE
      SELECT r.at INTO ring_at FROM rate_limit_ring r WHERE r.key = keys[i] AND r.pos = limit_row.n % caps[i];
      IF FOUND THEN
        slot := greatest(slot, ring_at + windows[i]);
      END IF;
    END IF;
  END LOOP;
  IF slot - now_ms > max_wait_ms THEN
    RETURN QUERY SELECT false, slot, slot - now_ms, now_ms - extract(epoch FROM statement_timestamp()) * 1000;
    RETURN;
  END IF;
  FOR i IN 1 .. cardinality(keys) LOOP
    IF caps[i] IS NULL THEN
      UPDATE rate_limits SET tat = slot + spacings[i], last_at = slot WHERE key = keys[i];
    ELSE
      SELECT * INTO limit_row FROM rate_limits WHERE key = keys[i];
      INSERT INTO rate_limit_ring (key, pos, at) VALUES (keys[i], limit_row.n % caps[i], slot)
        ON CONFLICT (key, pos) DO UPDATE SET at = EXCLUDED.at;
      UPDATE rate_limits SET n = n + 1, last_at = slot WHERE key = keys[i];
    END IF;
  END LOOP;
  RETURN QUERY SELECT true, slot, slot - now_ms, now_ms - extract(epoch FROM statement_timestamp()) * 1000;
END;
$$;

-- Down Migration

DROP FUNCTION rate_acquire(text[], double precision[], double precision[], integer[], double precision);
CREATE FUNCTION rate_acquire(keys text[], spacings double precision[], windows double precision[], caps integer[], max_wait_ms double precision)
RETURNS TABLE (granted boolean, at double precision, wait_ms double precision)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  now_ms double precision := extract(epoch FROM clock_timestamp()) * 1000;
  slot double precision := now_ms;
  locked integer;
  limit_row rate_limits%ROWTYPE;
  ring_at double precision;
  i integer;
BEGIN
  -- A row may be swept between the insert and the lock: then insert and lock again.
  LOOP
    INSERT INTO rate_limits (key) SELECT k FROM unnest(keys) AS k ORDER BY k ON CONFLICT (key) DO NOTHING;
    SELECT count(*) INTO locked FROM (SELECT 1 FROM rate_limits WHERE key = ANY (keys) ORDER BY key FOR UPDATE) AS l;
    EXIT WHEN locked = cardinality(keys);
  END LOOP;
  FOR i IN 1 .. cardinality(keys) LOOP
    SELECT * INTO limit_row FROM rate_limits WHERE key = keys[i];
    IF caps[i] IS NULL THEN
      slot := greatest(slot, limit_row.tat);
    ELSE
      SELECT r.at INTO ring_at FROM rate_limit_ring r WHERE r.key = keys[i] AND r.pos = limit_row.n % caps[i];
      IF FOUND THEN
        slot := greatest(slot, ring_at + windows[i]);
      END IF;
    END IF;
  END LOOP;
  IF slot - now_ms > max_wait_ms THEN
    RETURN QUERY SELECT false, slot, slot - now_ms;
    RETURN;
  END IF;
  FOR i IN 1 .. cardinality(keys) LOOP
    IF caps[i] IS NULL THEN
      UPDATE rate_limits SET tat = slot + spacings[i], last_at = slot WHERE key = keys[i];
    ELSE
      SELECT * INTO limit_row FROM rate_limits WHERE key = keys[i];
      INSERT INTO rate_limit_ring (key, pos, at) VALUES (keys[i], limit_row.n % caps[i], slot)
        ON CONFLICT (key, pos) DO UPDATE SET at = EXCLUDED.at;
      UPDATE rate_limits SET n = n + 1, last_at = slot WHERE key = keys[i];
    END IF;
  END LOOP;
  RETURN QUERY SELECT true, slot, slot - now_ms;
END;
$$;
