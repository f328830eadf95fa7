-- The outbox of the messages Cairn sends: one row per event and
-- destination, its key unique, so that an event enqueued by several
-- replicas, or again after a crash, is one row. A row is leased by the
-- sender that claims it (lease_until) and kept once sent.
CREATE TABLE notifications (
    id                bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key               text        NOT NULL UNIQUE,
    destination       text        NOT NULL,
    kind              text        NOT NULL,
    team              text        NOT NULL,
    service           text        NOT NULL,
    title             text        NOT NULL,
    text              text        NOT NULL,
    link              text        NOT NULL,
    create_time       timestamptz NOT NULL,
    attempts          integer     NOT NULL DEFAULT 0,
    last_error        text        NOT NULL DEFAULT '',
    next_attempt_time timestamptz NOT NULL,
    lease_until       timestamptz NOT NULL DEFAULT 'epoch',
    sent_time         timestamptz,
    gave_up           boolean     NOT NULL DEFAULT false
);

-- The rows a sender may claim, in the order it claims them.
CREATE INDEX notifications_due ON notifications (next_attempt_time, id) WHERE sent_time IS NULL AND NOT gave_up;
CREATE INDEX notifications_destination ON notifications (destination, id);

-- The state each promotion was last notified in. Promotions recorded
-- before notifications existed count as notified.
CREATE TABLE promotion_notified (
    promotion_id bigint NOT NULL PRIMARY KEY REFERENCES promotions (id) ON DELETE CASCADE,
    state        text   NOT NULL
);
INSERT INTO promotion_notified (promotion_id, state) SELECT id, state FROM promotions;
