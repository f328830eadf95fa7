package sqlstore

import (
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/jsoncol"
)

// The rows below are the tables' rows as both engines' sqlc models have
// them, field for field, but for the column types: T is a time, N an
// optional time and J a JSON document, as the engine keeps them. An
// engine's row converts to its instance, and Columns converts that to and
// from the store's types, so that the two engines share one field mapping.

// ServiceRow is a row of services.
type ServiceRow[T any, J JSON] struct {
	Name, Title, Description, Type, Lifecycle, Owner, Team, System string
	GoldenPath                                                     bool
	SourceTemplate                                                 string
	Labels, Annotations, Tags, Links                               J
	ProvidesApis, ConsumesApis, DependsOn                          J
	Etag                                                           string
	CreateTime, UpdateTime                                         T
}

// ProvisioningRow is a row of provisionings.
type ProvisioningRow[T, N any, J JSON] struct {
	Service, RequestID, Requester string
	Spec                          J
	Generation, AppliedGeneration int64
	CreateTime, UpdateTime        T
	ReadyTime                     N
}

// PromotionRow is a row of promotions.
type PromotionRow[T, N any] struct {
	ID                                                      int64
	Service, RequestID, Revision, State, Requester, Decider string
	Reason                                                  string
	CreateTime                                              T
	DecideTime                                              N
	Environment                                             string
	Rollback                                                bool
	Evidence                                                string
}

// AuditEventRow is a row of audit_events.
type AuditEventRow[T any] struct {
	ID                                                          int64
	Time                                                        T
	Principal, Action, Target, RequestID, Outcome, Code, Detail string
}

// AuditRow is a row of audit_events but its ID, as an append writes it.
type AuditRow[T any] struct {
	Time                                                        T
	Principal, Action, Target, RequestID, Outcome, Code, Detail string
}

// IncidentRow is what GetIncident reads of an incident.
type IncidentRow[T, N any] struct {
	ID, Service   string
	OpenedAt      T
	ResolvedAt    N
	CauseRevision string
}

// BudgetRow is a row of team_budgets.
type BudgetRow[T any] struct {
	Team          string
	MonthlyAmount int64
	Currency      string
	UpdateTime    T
}

// JSON is how an engine keeps a JSON document.
type JSON interface{ ~string | ~[]byte }

// Columns converts an engine's column types.
type Columns[T, N any, J JSON] struct {
	// Time is a time column's value, in UTC.
	Time func(T) time.Time
	// OptionalTime is an optional time column's value, in UTC: the zero
	// time for NULL.
	OptionalTime func(N) time.Time
	// FromTime is the column value of a time, cut to the whole
	// microseconds both engines keep.
	FromTime func(time.Time) T
}

// ServiceRow is the row that stores svc, stamped at now. The create time
// is only used when the row is new.
func (c Columns[T, N, J]) ServiceRow(svc *store.Service, now time.Time) ServiceRow[T, J] {
	return ServiceRow[T, J]{
		Name: svc.Name, Title: svc.Title, Description: svc.Description, Type: svc.Type,
		Lifecycle: svc.Lifecycle, Owner: svc.Owner, Team: svc.Team, System: svc.System,
		GoldenPath: svc.GoldenPath, SourceTemplate: svc.SourceTemplate,
		Labels:       J(jsoncol.EncodeMap(svc.Labels)),
		Annotations:  J(jsoncol.EncodeMap(svc.Annotations)),
		Tags:         J(jsoncol.EncodeList(svc.Tags)),
		Links:        J(jsoncol.EncodeList(svc.Links)),
		ProvidesApis: J(jsoncol.EncodeList(svc.ProvidesAPIs)),
		ConsumesApis: J(jsoncol.EncodeList(svc.ConsumesAPIs)),
		DependsOn:    J(jsoncol.EncodeList(svc.DependsOn)),
		Etag:         store.ContentEtag(svc),
		CreateTime:   c.FromTime(now),
		UpdateTime:   c.FromTime(now),
	}
}

// Service is the service a row stores, or the error of the query that
// read it. Empty collections come back nil.
func (c Columns[T, N, J]) Service(row ServiceRow[T, J], err error) (*store.Service, error) {
	if err != nil {
		return nil, err
	}
	svc := &store.Service{
		Name: row.Name, Title: row.Title, Description: row.Description, Type: row.Type,
		Lifecycle: row.Lifecycle, Owner: row.Owner, Team: row.Team, System: row.System,
		GoldenPath: row.GoldenPath, SourceTemplate: row.SourceTemplate, Etag: row.Etag,
		CreateTime: c.Time(row.CreateTime), UpdateTime: c.Time(row.UpdateTime),
	}
	err = errors.Join(
		jsoncol.DecodeMap([]byte(row.Labels), &svc.Labels),
		jsoncol.DecodeMap([]byte(row.Annotations), &svc.Annotations),
		jsoncol.DecodeList([]byte(row.Tags), &svc.Tags),
		jsoncol.DecodeList([]byte(row.Links), &svc.Links),
		jsoncol.DecodeList([]byte(row.ProvidesApis), &svc.ProvidesAPIs),
		jsoncol.DecodeList([]byte(row.ConsumesApis), &svc.ConsumesAPIs),
		jsoncol.DecodeList([]byte(row.DependsOn), &svc.DependsOn),
	)
	if err != nil {
		return nil, fmt.Errorf("decode service %q: %w", row.Name, err)
	}
	return svc, nil
}

// Provisioning is the provisioning a row records, or the error of the
// query that read it.
func (c Columns[T, N, J]) Provisioning(row ProvisioningRow[T, N, J], err error) (store.Provisioning, error) {
	if err != nil {
		return store.Provisioning{}, err
	}
	p := store.Provisioning{
		Service: row.Service, RequestID: row.RequestID, Requester: row.Requester,
		Generation: row.Generation, AppliedGeneration: row.AppliedGeneration,
		CreateTime: c.Time(row.CreateTime), UpdateTime: c.Time(row.UpdateTime), ReadyTime: c.OptionalTime(row.ReadyTime),
	}
	if err := jsoncol.DecodeSpec([]byte(row.Spec), &p.Spec); err != nil {
		return store.Provisioning{}, fmt.Errorf("decode provisioning %q: %w", row.Service, err)
	}
	return p, nil
}

// Spec is the column value of a provisioning's spec.
func (c Columns[T, N, J]) Spec(spec store.ProvisioningSpec) J { return J(jsoncol.EncodeSpec(spec)) }

// Promotion is the promotion a row records, or the error of the query
// that read it.
func (c Columns[T, N, J]) Promotion(row PromotionRow[T, N], err error) (store.Promotion, error) {
	if err != nil {
		return store.Promotion{}, err
	}
	p := store.Promotion{
		Service: row.Service, ID: row.ID, RequestID: row.RequestID, Revision: row.Revision, State: row.State,
		Requester: row.Requester, Decider: row.Decider, Reason: row.Reason,
		CreateTime: c.Time(row.CreateTime), DecideTime: c.OptionalTime(row.DecideTime),
		Environment: row.Environment, Rollback: row.Rollback,
	}
	if p.Evidence, err = jsoncol.DecodeEvidence(row.Evidence); err != nil {
		return store.Promotion{}, fmt.Errorf("decode evidence of promotion %d of %q: %w", row.ID, row.Service, err)
	}
	return p, nil
}

// Evidence is the column value of a promotion's evidence.
func (c Columns[T, N, J]) Evidence(e *store.PromotionEvidence) string {
	return jsoncol.EncodeEvidence(e)
}

// AuditRow is the row that records e.
func (c Columns[T, N, J]) AuditRow(e store.AuditEvent) AuditRow[T] {
	return AuditRow[T]{
		Time: c.FromTime(e.Time), Principal: e.Principal, Action: e.Action, Target: e.Target,
		RequestID: e.RequestID, Outcome: e.Outcome, Code: e.Code, Detail: e.Detail,
	}
}

// AuditEvent is the event a row records.
func (c Columns[T, N, J]) AuditEvent(row AuditEventRow[T]) store.AuditEvent {
	return store.AuditEvent{
		ID: row.ID, Time: c.Time(row.Time), Principal: row.Principal, Action: row.Action, Target: row.Target,
		RequestID: row.RequestID, Outcome: row.Outcome, Code: row.Code, Detail: row.Detail,
	}
}

// Incident is the incident a row records.
func (c Columns[T, N, J]) Incident(row IncidentRow[T, N]) store.Incident {
	return store.Incident{
		ID: row.ID, Service: row.Service, OpenedAt: c.Time(row.OpenedAt),
		ResolvedAt: c.OptionalTime(row.ResolvedAt), CauseRevision: row.CauseRevision,
	}
}

// Budget is the budget a row stores.
func (c Columns[T, N, J]) Budget(row BudgetRow[T]) store.Budget {
	return store.Budget{Team: row.Team, MonthlyAmount: row.MonthlyAmount, Currency: row.Currency, UpdateTime: c.Time(row.UpdateTime)}
}
