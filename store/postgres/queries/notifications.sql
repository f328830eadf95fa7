-- name: EnqueueNotification :execrows
-- Keeps the notification unless its key is kept: then writes nothing.
INSERT INTO notifications (key, destination, kind, team, service, title, text, link, create_time, next_attempt_time)
VALUES (@key, @destination, @kind, @team, @service, @title, @text, @link, @create_time, @create_time)
ON CONFLICT (key) DO NOTHING;

-- name: ClaimNotifications :many
-- Leases the oldest due notifications until @until, skipping the rows
-- another claim holds locked, so that two replicas never claim one.
UPDATE notifications SET lease_until = @until
WHERE id IN (
    SELECT due.id FROM notifications AS due
    WHERE due.sent_time IS NULL AND NOT due.gave_up AND due.next_attempt_time <= @now AND due.lease_until <= @now
    ORDER BY due.next_attempt_time, due.id
    LIMIT @max_notifications
    FOR UPDATE SKIP LOCKED
)
RETURNING *;

-- name: MarkNotificationSent :execrows
UPDATE notifications SET sent_time = @sent_time, lease_until = 'epoch' WHERE id = @id AND sent_time IS NULL;

-- name: RetryNotification :execrows
UPDATE notifications
SET attempts = attempts + 1, last_error = @last_error, next_attempt_time = @next_attempt_time,
    gave_up = @gave_up, lease_until = 'epoch'
WHERE id = @id AND sent_time IS NULL;

-- name: ListNotifications :many
SELECT * FROM notifications
WHERE destination = sqlc.narg(destination) OR sqlc.narg(destination) IS NULL
ORDER BY id DESC
LIMIT sqlc.arg(max_notifications);

-- name: PromotionsToNotify :many
-- The promotions whose state is not the one last notified, oldest first.
SELECT promotions.* FROM promotions
LEFT JOIN promotion_notified ON promotion_notified.promotion_id = promotions.id
WHERE promotion_notified.state IS NULL OR promotion_notified.state <> promotions.state
ORDER BY promotions.id
LIMIT @max_promotions;

-- name: MarkPromotionNotified :exec
INSERT INTO promotion_notified (promotion_id, state)
SELECT id, @state FROM promotions WHERE service = @service AND id = @id
ON CONFLICT (promotion_id) DO UPDATE SET state = excluded.state;
