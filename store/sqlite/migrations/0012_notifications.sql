-- The outbox of the messages Cairn sends: one row per event and
-- destination, its key unique, so that an event enqueued by several
-- replicas, or again after a crash, is one row. A row is leased by the
-- sender that claims it (lease_until) and kept once sent. Times are unix
-- microseconds, UTC.
CREATE TABLE notifications (
    id                INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    key               TEXT    NOT NULL UNIQUE,
    destination       TEXT    NOT NULL,
    kind              TEXT    NOT NULL,
    team              TEXT    NOT NULL,
    service           TEXT    NOT NULL,
    title             TEXT    NOT NULL,
    text              TEXT    NOT NULL,
    link              TEXT    NOT NULL,
    create_time       INTEGER NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    next_attempt_time INTEGER NOT NULL,
    lease_until       INTEGER NOT NULL DEFAULT 0,
    sent_time         INTEGER,
    gave_up           BOOLEAN NOT NULL DEFAULT 0 CHECK (gave_up IN (0, 1))
);

-- The rows a sender may claim, in the order it claims them.
CREATE INDEX notifications_due ON notifications (next_attempt_time, id) WHERE sent_time IS NULL AND gave_up = 0;
CREATE INDEX notifications_destination ON notifications (destination, id);

-- The state each promotion was last notified in. Promotions recorded
-- before notifications existed count as notified.
CREATE TABLE promotion_notified (
    promotion_id INTEGER NOT NULL PRIMARY KEY REFERENCES promotions (id) ON DELETE CASCADE,
    state        TEXT    NOT NULL
);
INSERT INTO promotion_notified (promotion_id, state) SELECT id, state FROM promotions;
