-- Up Migration

-- Feishu's rate limits, shared by every instance (see rate-limiter.ts). One row per limit and key (an app, a chat or
-- a message): a per-second limit spaces its permits evenly (`tat`: the earliest time the next permit may have, GCRA's
-- theoretical arrival time); a per-minute limit lets at most `cap` permits into any window (`n` counts its permits,
-- and `rate_limit_ring` holds the time of each of the last `cap`, at position n % cap). Times are milliseconds on
-- the database's clock, the one clock every instance shares.
CREATE TABLE rate_limits (
  key text PRIMARY KEY,
  tat double precision,
  n bigint NOT NULL DEFAULT 0,
  -- The latest permit's time: keys idle for long are swept.
  last_at double precision NOT NULL DEFAULT 0
);
CREATE INDEX rate_limits_by_last ON rate_limits (last_at);

CREATE TABLE rate_limit_ring (
  key text NOT NULL,
  pos integer NOT NULL,
  at double precision NOT NULL,
  PRIMARY KEY (key, pos)
);

-- One permit under several limits at once, all or none: the permit's time is the earliest every limit allows; it is
-- granted (and written into every limit) only if that is at most `max_wait_ms` away. Rows are created and locked in
-- the order of their keys, so two callers never wait on each other in a cycle. A limit is spaced when its
-- `caps` entry is null (`spacings`: ms between permits), windowed otherwise (`windows`: the window, ms).
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

-- The per-person command budgets of rate-limiter-flexible's RateLimiterPostgres, in the table shape it creates itself
-- (created here instead, so the bot's database user needs no rights beyond its schema at run time).
CREATE TABLE command_throttle (
  key varchar(255) PRIMARY KEY,
  points integer NOT NULL DEFAULT 0,
  expire bigint
);

-- Down Migration

DROP TABLE command_throttle;
DROP FUNCTION rate_acquire(text[], double precision[], double precision[], integer[], double precision);
DROP TABLE rate_limit_ring;
DROP TABLE rate_limits;
