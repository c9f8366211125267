-- Version 22: encryption at rest. Each scope's sealed copy of a blob (AES-256-GCM runs under data keys wrapped
-- by the master key or a KMS key; docs/encryption.md "The format"): where its bytes are in the blob store and
-- where its runs start. The wrapped keys and tags are in the sealed bytes themselves. Recorded only after the
-- bytes are committed, so a row always has its bytes.
CREATE TABLE sealed_copies (
    digest     TEXT    NOT NULL,
    -- 'aes256' (the master key) or the KMS key's ARN.
    scope      TEXT    NOT NULL,
    -- The blob store name the sealed bytes are committed under (digest-shaped, unique per upload).
    address    TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    -- Comma-separated plaintext offsets where each sealed run starts ('' for an empty blob).
    runs       TEXT    NOT NULL,
    upload_id  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (digest, scope)
);
