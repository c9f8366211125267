-- Version 12: an upload session records the chunks it accepted ("offset.writeId", space-separated,
-- in order). Chunks are written under fresh write ids, so two requests racing at one offset on two
-- nodes each leave their own chunk; the one whose offset advance won is the one recorded here, and
-- the commit takes exactly those bytes. Sessions from before carry no chunks and cannot continue on
-- the new layout; they expire as usual.

ALTER TABLE uploads ADD COLUMN chunks TEXT NOT NULL DEFAULT '';
