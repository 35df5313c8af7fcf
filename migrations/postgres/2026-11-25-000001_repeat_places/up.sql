-- Each ticket's place keys (s: street, d: district, n: a named place, g: a 0.01° grid cell),
-- written with the ticket, so that a new appeal finds the open tickets near it in the last days
-- without reading every ticket of the window (repeat-appeal detection, intake/src/repeats).
CREATE TABLE repeat_places (
    place TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    PRIMARY KEY (place, received_at, ticket_id)
);
CREATE INDEX repeat_places_ticket ON repeat_places (ticket_id);
