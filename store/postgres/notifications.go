package postgres

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

func (e *executor) EnqueueNotification(ctx context.Context, n store.Notification, now time.Time) (bool, error) {
	rows, err := e.q.EnqueueNotification(ctx, dbsqlc.EnqueueNotificationParams{
		Key: n.Key, Destination: n.Destination, Kind: n.Kind, Team: n.Team, Service: n.Service,
		Title: n.Title, Text: n.Text, Link: n.Link, CreateTime: columns.FromTime(now),
	})
	return rows == 1, err
}

func (e *executor) ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]store.Notification, error) {
	rows, err := e.q.ClaimNotifications(ctx, dbsqlc.ClaimNotificationsParams{Until: until, Now: now, MaxNotifications: int32(limit)})
	return sqlstore.ConvertRows(rows, err, fromNotificationRow)
}

func (e *executor) MarkNotificationSent(ctx context.Context, id int64, at time.Time) (bool, error) {
	rows, err := e.q.MarkNotificationSent(ctx, dbsqlc.MarkNotificationSentParams{SentTime: optionalTime(columns.FromTime(at)), ID: id})
	return rows == 1, err
}

func (e *executor) RetryNotification(ctx context.Context, id int64, lastError string, next time.Time, gaveUp bool) (bool, error) {
	rows, err := e.q.RetryNotification(ctx, dbsqlc.RetryNotificationParams{LastError: lastError, NextAttemptTime: next, GaveUp: gaveUp, ID: id})
	return rows == 1, err
}

func (e *executor) ListNotifications(ctx context.Context, destination string, limit int) ([]store.Notification, error) {
	rows, err := e.q.ListNotifications(ctx, dbsqlc.ListNotificationsParams{Destination: optionalString(destination), MaxNotifications: int32(limit)})
	return sqlstore.ConvertRows(rows, err, fromNotificationRow)
}

func (e *executor) PromotionsToNotify(ctx context.Context, limit int) ([]store.Promotion, error) {
	rows, err := e.q.PromotionsToNotify(ctx, int32(limit))
	return sqlstore.ConvertRows(rows, err, fromPromotionRow)
}

func (e *executor) MarkPromotionNotified(ctx context.Context, service string, id int64, state string) error {
	return e.q.MarkPromotionNotified(ctx, dbsqlc.MarkPromotionNotifiedParams{State: state, Service: service, ID: id})
}

func fromNotificationRow(row dbsqlc.Notification, err error) (store.Notification, error) {
	return store.Notification{
		ID: row.ID, Key: row.Key, Destination: row.Destination, Kind: row.Kind, Team: row.Team, Service: row.Service,
		Title: row.Title, Text: row.Text, Link: row.Link, CreateTime: row.CreateTime.UTC(), Attempts: int(row.Attempts),
		LastError: row.LastError, NextAttemptTime: row.NextAttemptTime.UTC(), SentTime: timeOrZero(row.SentTime), GaveUp: row.GaveUp,
	}, err
}
