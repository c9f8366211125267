-- Version 15: pull-through cache tag freshness. Per repository and tag, when the upstream was last asked
-- what the tag points at (and its answer); a pull inside the freshness window serves the cache without
-- asking again. Rows go with their repository.

CREATE TABLE pull_through_tags (
    repository_id bigint NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    tag           text   COLLATE "C" NOT NULL,
    digest        text   COLLATE "C" NOT NULL,
    validated_at  bigint NOT NULL,
    PRIMARY KEY (repository_id, tag)
);
