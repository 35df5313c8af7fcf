-- The citizens' Q&A robot (knowledge/src/store/robot.rs): each conversation, addressed by its id
-- and a secret only the citizen holds (kept hashed), and every turn of it. A conversation handed
-- off to a person is linked to the ticket its hand-off created.
CREATE TABLE robot_conversations (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL,
    -- open: the robot answers; handed_off: a ticket waits for an agent
    state TEXT NOT NULL,
    handoff_reason TEXT,
    ticket_id TEXT UNIQUE,
    turns INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE robot_turns (
    conversation_id TEXT NOT NULL REFERENCES robot_conversations (id),
    n INTEGER NOT NULL,
    -- citizen or robot
    speaker TEXT NOT NULL,
    -- question, choice, answer, clarify, handoff, no_answer
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    article_slug TEXT,
    confidence REAL,
    -- a clarifying question's options: a JSON array of {slug, title}
    options TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (conversation_id, n)
);
-- The questions the robot could not answer (it handed them to a person for want of a trusted
-- answer): the editors' list of gaps to fill, beside the searches that found nothing.
CREATE TABLE kb_gaps (
    id BIGSERIAL PRIMARY KEY,
    query TEXT NOT NULL,
    normalised TEXT NOT NULL,
    -- low_confidence or no_match
    reason TEXT NOT NULL,
    asked_at TIMESTAMP NOT NULL
);
CREATE INDEX kb_gaps_at ON kb_gaps (asked_at);
