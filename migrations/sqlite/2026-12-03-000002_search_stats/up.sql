-- Search statistics for editors (knowledge/src/store/stats.rs): every search with how many
-- answers it found, and every answer opened from a search.
CREATE TABLE kb_searches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- the text as typed, and normalised (full width, case, traditional characters) for grouping
    query TEXT NOT NULL,
    normalised TEXT NOT NULL,
    hits INTEGER NOT NULL,
    top_slug TEXT,
    searched_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_searches_at ON kb_searches (searched_at);
CREATE TABLE kb_answer_uses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL,
    used_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_answer_uses_at ON kb_answer_uses (used_at);
