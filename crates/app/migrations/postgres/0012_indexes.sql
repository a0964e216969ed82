-- The sweep reads due credentials in (next_due_on, id) order, batch after batch: an index in
-- that order lets each batch start where the last ended without sorting.
CREATE INDEX credentials_due_order ON credentials (next_due_on, id) WHERE next_due_on IS NOT NULL;
DROP INDEX credentials_due;
-- The outcome reports read one program's scored attempts and credentials; without these they
-- scan every program's rows, documents included.
CREATE INDEX attempts_scored ON attempts (program_id, finished_at) WHERE passed IS NOT NULL;
CREATE INDEX credentials_program ON credentials (program_id);
