-- Version 9: the vulnerability database. Advisories in OSV's JSON, by source (an import replaces one
-- source's advisories in one transaction), and the packages each affects, for lookup.

CREATE TABLE vuln_sources (
    name           TEXT    PRIMARY KEY,
    updated_at     INTEGER,
    imported_at    INTEGER NOT NULL,
    advisory_count INTEGER NOT NULL
);

CREATE TABLE vuln_advisories (
    source   TEXT    NOT NULL REFERENCES vuln_sources (name) ON DELETE CASCADE,
    id       TEXT    NOT NULL,
    modified INTEGER,
    document TEXT    NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE TABLE vuln_packages (
    source      TEXT NOT NULL,
    advisory_id TEXT NOT NULL,
    ecosystem   TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (source, advisory_id, ecosystem, name),
    FOREIGN KEY (source, advisory_id) REFERENCES vuln_advisories (source, id) ON DELETE CASCADE
);
CREATE INDEX vuln_packages_lookup ON vuln_packages (ecosystem, name);
