-- Version 12, on PostgreSQL (mirrors the SQLite script): an upload session records the chunks it
-- accepted ("offset.writeId", space-separated, in order), appended by the offset advance that won.

ALTER TABLE uploads ADD COLUMN chunks text NOT NULL DEFAULT '';
