-- Up Migration

-- A Submit click whose client dropped the button's value names its form only by the button's name, which carries
-- the form's card key: the first 12 hex digits of the SHA-256 of its id (`formCardKey` in src/domain/todo-form.ts).
-- The bot writes it with every form; rows written before it are given theirs here.
ALTER TABLE forms ADD COLUMN card_key text;
UPDATE forms SET card_key = substr(encode(sha256(convert_to(id, 'UTF8')), 'hex'), 1, 12);
ALTER TABLE forms ALTER COLUMN card_key SET NOT NULL;
CREATE INDEX forms_by_card_key ON forms (card_key);

-- Down Migration

DROP INDEX forms_by_card_key;
ALTER TABLE forms DROP COLUMN card_key;
