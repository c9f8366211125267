-- Version 28: nothing on SQLite. PostgreSQL's version 28 adds the triggers that notify its nodes' read caches of a
-- commit; SQLite's read cache reads its change stamp from the WAL-index header (SqliteWalWatch), which every commit
-- rewrites. The version is kept so the two engines' schema numbers stay one sequence.
SELECT 1;
