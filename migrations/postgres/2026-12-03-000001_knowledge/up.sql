-- The knowledge base (knowledge/src/store): articles, every version of each, the workflow trail,
-- and the change log the search indexes follow. See knowledge/src/workflow.rs for the states.
CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    -- draft | in_review | published | archived (of the latest version)
    state TEXT NOT NULL,
    -- the latest version's number; an edit names the version it was made from
    version INTEGER NOT NULL,
    -- the version agents, citizens and the search see; NULL until first published
    published_version INTEGER,
    owner_unit_id TEXT NOT NULL REFERENCES org_units (id),
    -- the latest version's title and category, for lists
    title TEXT NOT NULL,
    category TEXT NOT NULL,
    -- the reviewer's note when the article was last sent back
    review_note TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_articles_owner ON kb_articles (owner_unit_id);
CREATE INDEX kb_articles_state ON kb_articles (state, updated_at);

CREATE TABLE kb_article_versions (
    article_id TEXT NOT NULL REFERENCES kb_articles (id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    -- Markdown
    body TEXT NOT NULL,
    category TEXT NOT NULL,
    -- JSON arrays of strings: tags, and the codes of the org units the answer applies to
    tags TEXT NOT NULL,
    areas TEXT NOT NULL,
    valid_from DATE,
    valid_to DATE,
    source TEXT,
    author_id TEXT REFERENCES users (id),
    note TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (article_id, version)
);

-- Every workflow step: created, edited, submitted, published, sent back, archived, restored.
CREATE TABLE kb_article_log (
    id BIGSERIAL PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES kb_articles (id),
    action TEXT NOT NULL,
    version INTEGER NOT NULL,
    actor_id TEXT REFERENCES users (id),
    actor_role TEXT NOT NULL,
    note TEXT,
    occurred_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_article_log_article ON kb_article_log (article_id, id);

-- One row per change that may alter what the search holds. `seq` is taken from kb_counters in
-- the changing transaction (which holds the counter row until it commits), so the log becomes
-- visible in sequence order and a follower reading `seq > last` never skips a change.
CREATE TABLE kb_changes (
    seq BIGINT PRIMARY KEY,
    article_id TEXT NOT NULL,
    changed_at TIMESTAMP NOT NULL
);
CREATE TABLE kb_counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
-- How far a shared external engine (Meilisearch) has applied the change log.
CREATE TABLE kb_sync_cursors (
    engine TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
