-- Version 9, on PostgreSQL (mirrors the SQLite script): the vulnerability database.

CREATE TABLE vuln_sources (
    name           text   COLLATE "C" PRIMARY KEY,
    updated_at     bigint,
    imported_at    bigint NOT NULL,
    advisory_count bigint NOT NULL
);

CREATE TABLE vuln_advisories (
    source   text   COLLATE "C" NOT NULL REFERENCES vuln_sources (name) ON DELETE CASCADE,
    id       text   COLLATE "C" NOT NULL,
    modified bigint,
    document text   NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE TABLE vuln_packages (
    source      text COLLATE "C" NOT NULL,
    advisory_id text COLLATE "C" NOT NULL,
    ecosystem   text COLLATE "C" NOT NULL,
    name        text COLLATE "C" NOT NULL,
    PRIMARY KEY (source, advisory_id, ecosystem, name),
    FOREIGN KEY (source, advisory_id) REFERENCES vuln_advisories (source, id) ON DELETE CASCADE
);
CREATE INDEX vuln_packages_lookup ON vuln_packages (ecosystem, name);
