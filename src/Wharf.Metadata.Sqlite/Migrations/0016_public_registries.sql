-- Version 16: public registries (ECR Public). One registry per account with its aliases (unique across
-- accounts: the alias is the key), public repositories' catalog data with their logos, the gallery's
-- search terms and platform badges (both indexed so a search is an index range scan, never a table
-- scan), and anonymous bytes served per source and month. Per-repository rows go with their repository.

CREATE TABLE public_registries (
    account      TEXT    NOT NULL PRIMARY KEY,
    verified     INTEGER NOT NULL DEFAULT 0,
    display_name TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE public_registry_aliases (
    name       TEXT    NOT NULL PRIMARY KEY,
    account    TEXT    NOT NULL REFERENCES public_registries (account) ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    is_primary INTEGER NOT NULL,
    is_default INTEGER NOT NULL
);

CREATE INDEX public_registry_aliases_account ON public_registry_aliases (account);

CREATE TABLE public_catalogs (
    repository_id     INTEGER NOT NULL PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    description       TEXT,
    architectures     TEXT    NOT NULL,
    operating_systems TEXT    NOT NULL,
    about_text        TEXT,
    usage_text        TEXT,
    logo_sha256       TEXT,
    logo_media_type   TEXT,
    logo_bytes        BLOB
);

-- The gallery serves a logo by its SHA-256.
CREATE INDEX public_catalogs_logo ON public_catalogs (logo_sha256) WHERE logo_sha256 IS NOT NULL;

-- A query word w matches the terms in [w, w || U+10FFFF): a range of this primary key.
CREATE TABLE public_search_terms (
    term          TEXT    NOT NULL,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (term, repository_id)
) WITHOUT ROWID;

-- Per repository: its terms' deletion, and each further query word's probe.
CREATE INDEX public_search_terms_repository ON public_search_terms (repository_id, term);

-- Architecture ('a') and operating system ('o') badges, lowercased, for the search's exact filters.
CREATE TABLE public_platforms (
    kind          TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, repository_id)
) WITHOUT ROWID;

CREATE INDEX public_platforms_repository ON public_platforms (repository_id);

-- The empty search pages through every public repository by name: a range of this index.
CREATE INDEX repositories_region_name ON repositories (region, name, id);

CREATE TABLE public_anonymous_bytes (
    month  TEXT    NOT NULL,
    source TEXT    NOT NULL,
    bytes  INTEGER NOT NULL,
    PRIMARY KEY (month, source)
);
