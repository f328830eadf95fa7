package sqlite

import (
	"database/sql"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/sqlstore"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// columns: times are kept in INTEGER columns of unix microseconds (NULL
// for an optional time not set), JSON in TEXT columns, which sqlc reads and
// writes as strings. Each from* function converts the row a query read, or
// passes its error on.
var columns = sqlstore.Columns[int64, sql.NullInt64, string]{
	Time:         fromMicros,
	OptionalTime: timeOrZero,
	FromTime:     time.Time.UnixMicro,
}

func fromRow(row dbsqlc.Service, err error) (*store.Service, error) {
	return columns.Service(sqlstore.ServiceRow[int64, string](row), err)
}

func fromProvisioningRow(row dbsqlc.Provisioning, err error) (store.Provisioning, error) {
	return columns.Provisioning(sqlstore.ProvisioningRow[int64, sql.NullInt64, string](row), err)
}

func fromPromotionRow(row dbsqlc.Promotion, err error) (store.Promotion, error) {
	return columns.Promotion(sqlstore.PromotionRow[int64, sql.NullInt64](row), err)
}

func fromAuditRow(row dbsqlc.AuditEvent, err error) (store.AuditEvent, error) {
	return columns.AuditEvent(sqlstore.AuditEventRow[int64](row)), err
}

func fromIncidentRow(row dbsqlc.GetIncidentRow, err error) (store.Incident, error) {
	return columns.Incident(sqlstore.IncidentRow[int64, sql.NullInt64](row)), err
}

func fromBudgetRow(row dbsqlc.TeamBudget, err error) (store.Budget, error) {
	return columns.Budget(sqlstore.BudgetRow[int64](row)), err
}

// fromMicros is the time of unix microseconds, in UTC.
func fromMicros(micros int64) time.Time { return time.UnixMicro(micros).UTC() }

// optionalMicros is an optional time in unix microseconds: the zero time
// is NULL, which as a filter matches everything.
func optionalMicros(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: !t.IsZero()}
}

// timeOrZero is the time an optional column of unix microseconds keeps:
// the zero time for NULL.
func timeOrZero(micros sql.NullInt64) time.Time {
	if !micros.Valid {
		return time.Time{}
	}
	return fromMicros(micros.Int64)
}

// optionalString is an optional query argument: empty is NULL, which
// matches everything.
func optionalString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func optionalBool(b *bool) sql.NullBool {
	if b == nil {
		return sql.NullBool{}
	}
	return sql.NullBool{Bool: *b, Valid: true}
}
