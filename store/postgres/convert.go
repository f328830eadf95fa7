package postgres

import (
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// columns: times are timestamptz, JSON jsonb. Times are cut to the whole
// microseconds timestamptz keeps, not by however pgx sends them: its binary
// format truncates, but its text format leaves the server to round. Each
// from* function converts the row a query read, or passes its error on.
var columns = sqlstore.Columns[time.Time, pgtype.Timestamptz, []byte]{
	Time:         time.Time.UTC,
	OptionalTime: timeOrZero,
	FromTime:     func(t time.Time) time.Time { return t.Truncate(time.Microsecond) },
}

func fromRow(row dbsqlc.Service, err error) (*store.Service, error) {
	return columns.Service(sqlstore.ServiceRow[time.Time, []byte](row), err)
}

func fromProvisioningRow(row dbsqlc.Provisioning, err error) (store.Provisioning, error) {
	return columns.Provisioning(sqlstore.ProvisioningRow[time.Time, pgtype.Timestamptz, []byte](row), err)
}

func fromPromotionRow(row dbsqlc.Promotion, err error) (store.Promotion, error) {
	return columns.Promotion(sqlstore.PromotionRow[time.Time, pgtype.Timestamptz](row), err)
}

func fromAuditRow(row dbsqlc.AuditEvent, err error) (store.AuditEvent, error) {
	return columns.AuditEvent(sqlstore.AuditEventRow[time.Time](row)), err
}

func fromIncidentRow(row dbsqlc.GetIncidentRow, err error) (store.Incident, error) {
	return columns.Incident(sqlstore.IncidentRow[time.Time, pgtype.Timestamptz](row)), err
}

func fromBudgetRow(row dbsqlc.TeamBudget, err error) (store.Budget, error) {
	return columns.Budget(sqlstore.BudgetRow[time.Time](row)), err
}

// optionalTime is an optional time: the zero time is NULL, which as a
// filter matches everything.
func optionalTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}

// timeOrZero is the time an optional column keeps, in UTC: the zero time
// for NULL.
func timeOrZero(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// optionalString is an optional query argument: empty is NULL, which
// matches everything.
func optionalString(s string) pgtype.Text {
	return pgtype.Text{String: s, Valid: s != ""}
}

func optionalBool(b *bool) pgtype.Bool {
	if b == nil {
		return pgtype.Bool{}
	}
	return pgtype.Bool{Bool: *b, Valid: true}
}
