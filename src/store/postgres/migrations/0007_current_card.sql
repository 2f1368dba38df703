-- Up Migration

-- A to-do's current card (`Todo.currentCard`, src/domain/current-card.ts): the card Done, Reopen, /recall and updates
-- act on, which moves to a reminder when the posted card grows too old for Feishu to update. `todoByMessage` finds a
-- to-do by its posted card or by its current card. Rows written before it have no current card of their own (their
-- posted card is current), so the backfill finds none; it is there for rows a newer bot wrote and an older one kept.
ALTER TABLE todos ADD COLUMN card_message_id text;
-- Read from a copy with the \u0000 escape replaced: json's -> unescapes the whole document, and a to-do's text may hold one.
UPDATE todos SET card_message_id = replace(record::text, '\u0000', '\ufffd')::json -> 'currentCard' ->> 'messageId' WHERE replace(record::text, '\u0000', '\ufffd')::json -> 'currentCard' ->> 'messageId' IS NOT NULL;
CREATE INDEX todos_by_card_message ON todos (card_message_id) WHERE card_message_id IS NOT NULL;

-- Down Migration

DROP INDEX todos_by_card_message;
ALTER TABLE todos DROP COLUMN card_message_id;
