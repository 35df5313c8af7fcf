-- Files a queued e-mail carries (the leaders' monthly report: the rates workbook and the heat
-- map), beside the outbox row rather than in it, so leasing and listing messages stays light.
CREATE TABLE mail_attachments (
    outbox_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    -- base64 (portable: no binary column type differs between the backends this way)
    content TEXT NOT NULL,
    PRIMARY KEY (outbox_id, position)
);
