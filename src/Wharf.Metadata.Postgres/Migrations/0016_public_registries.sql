-- Version 16: public registries (ECR Public). One registry per account with its aliases (unique across
-- accounts: the alias is the key), public repositories' catalog data with their logos, the gallery's
-- search terms and platform badges (both indexed so a search is an index range scan, never a table
-- scan), and anonymous bytes served per source and month. Per-repository rows go with their repository.
-- Texts compared or ranged are COLLATE "C" (byte order, as SQLite's), so a prefix is one index range.

CREATE TABLE public_registries (
    account      text    COLLATE "C" NOT NULL PRIMARY KEY,
    verified     boolean NOT NULL DEFAULT false,
    display_name text,
    created_at   bigint  NOT NULL
);

CREATE TABLE public_registry_aliases (
    name       text    COLLATE "C" NOT NULL PRIMARY KEY,
    account    text    COLLATE "C" NOT NULL REFERENCES public_registries (account) ON DELETE CASCADE,
    status     text    COLLATE "C" NOT NULL,
    is_primary boolean NOT NULL,
    is_default boolean NOT NULL
);

CREATE INDEX public_registry_aliases_account ON public_registry_aliases (account);

CREATE TABLE public_catalogs (
    repository_id     bigint NOT NULL PRIMARY KEY REFERENCES repositories (id) ON DELETE CASCADE,
    description       text,
    architectures     text   NOT NULL,
    operating_systems text   NOT NULL,
    about_text        text,
    usage_text        text,
    logo_sha256       text   COLLATE "C",
    logo_media_type   text,
    logo_bytes        bytea
);

-- The gallery serves a logo by its SHA-256.
CREATE INDEX public_catalogs_logo ON public_catalogs (logo_sha256) WHERE logo_sha256 IS NOT NULL;

-- A query word w matches the terms in [w, w || U+10FFFF): a range of this primary key.
CREATE TABLE public_search_terms (
    term          text   COLLATE "C" NOT NULL,
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (term, repository_id)
);

-- Per repository: its terms' deletion, and each further query word's probe.
CREATE INDEX public_search_terms_repository ON public_search_terms (repository_id, term);

-- Architecture ('a') and operating system ('o') badges, lowercased, for the search's exact filters.
CREATE TABLE public_platforms (
    kind          text   COLLATE "C" NOT NULL,
    value         text   COLLATE "C" NOT NULL,
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value, repository_id)
);

CREATE INDEX public_platforms_repository ON public_platforms (repository_id);

-- The empty search pages through every public repository by name: a range of this index.
CREATE INDEX repositories_region_name ON repositories (region, name, id);

CREATE TABLE public_anonymous_bytes (
    month  text   COLLATE "C" NOT NULL,
    source text   COLLATE "C" NOT NULL,
    bytes  bigint NOT NULL,
    PRIMARY KEY (month, source)
);
