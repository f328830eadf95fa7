package postgres

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/jsoncol"
	"github.com/cairn-dev/cairn/store/postgres/internal/dbsqlc"
)

// toParams is the row that stores svc, stamped at now (timestamptz keeps
// whole microseconds), replacing the stored service of its name if replace
// is set. The create time is only used when the row is new.
func toParams(svc *store.Service, replace bool, now time.Time) dbsqlc.WriteServiceParams {
	return dbsqlc.WriteServiceParams{
		Name:           svc.Name,
		Title:          svc.Title,
		Description:    svc.Description,
		Type:           svc.Type,
		Lifecycle:      svc.Lifecycle,
		Owner:          svc.Owner,
		Team:           svc.Team,
		System:         svc.System,
		GoldenPath:     svc.GoldenPath,
		SourceTemplate: svc.SourceTemplate,
		Labels:         jsoncol.EncodeMap(svc.Labels),
		Annotations:    jsoncol.EncodeMap(svc.Annotations),
		Tags:           jsoncol.EncodeList(svc.Tags),
		Links:          jsoncol.EncodeList(svc.Links),
		ProvidesApis:   jsoncol.EncodeList(svc.ProvidesAPIs),
		ConsumesApis:   jsoncol.EncodeList(svc.ConsumesAPIs),
		DependsOn:      jsoncol.EncodeList(svc.DependsOn),
		Etag:           store.ContentEtag(svc),
		CreateTime:     now,
		UpdateTime:     now,
		Replace:        replace,
	}
}

// fromRow is the service a row stores, its times in UTC. Empty collections
// come back nil.
func fromRow(row dbsqlc.Service) (*store.Service, error) {
	svc := &store.Service{
		Name:           row.Name,
		Title:          row.Title,
		Description:    row.Description,
		Type:           row.Type,
		Lifecycle:      row.Lifecycle,
		Owner:          row.Owner,
		Team:           row.Team,
		System:         row.System,
		GoldenPath:     row.GoldenPath,
		SourceTemplate: row.SourceTemplate,
		CreateTime:     row.CreateTime.UTC(),
		UpdateTime:     row.UpdateTime.UTC(),
		Etag:           row.Etag,
	}
	err := errors.Join(
		jsoncol.DecodeMap(row.Labels, &svc.Labels),
		jsoncol.DecodeMap(row.Annotations, &svc.Annotations),
		jsoncol.DecodeList(row.Tags, &svc.Tags),
		jsoncol.DecodeList(row.Links, &svc.Links),
		jsoncol.DecodeList(row.ProvidesApis, &svc.ProvidesAPIs),
		jsoncol.DecodeList(row.ConsumesApis, &svc.ConsumesAPIs),
		jsoncol.DecodeList(row.DependsOn, &svc.DependsOn),
	)
	if err != nil {
		return nil, fmt.Errorf("decode service %q: %w", row.Name, err)
	}
	return svc, nil
}

// toAuditParams is the row that records e. Its time is cut to the whole
// microseconds timestamptz keeps here, not by however pgx sends it: its
// binary format truncates, but its text format leaves the server to round.
func toAuditParams(e store.AuditEvent) dbsqlc.AppendAuditEventParams {
	return dbsqlc.AppendAuditEventParams{
		Time:      e.Time.Truncate(time.Microsecond),
		Principal: e.Principal,
		Action:    e.Action,
		Target:    e.Target,
		RequestID: e.RequestID,
		Outcome:   e.Outcome,
		Code:      e.Code,
	}
}

// fromAuditRow is the event a row records, its time in UTC.
func fromAuditRow(row dbsqlc.AuditEvent) store.AuditEvent {
	return store.AuditEvent{
		ID:        row.ID,
		Time:      row.Time.UTC(),
		Principal: row.Principal,
		Action:    row.Action,
		Target:    row.Target,
		RequestID: row.RequestID,
		Outcome:   row.Outcome,
		Code:      row.Code,
	}
}

// toProvisioningParams is the row that records p, stamped at now, cut to
// whole microseconds (see toAuditParams). The store sets the generations,
// and the ready time is NULL.
func toProvisioningParams(p store.Provisioning, now time.Time) dbsqlc.InsertProvisioningParams {
	now = now.Truncate(time.Microsecond)
	return dbsqlc.InsertProvisioningParams{
		Service:    p.Service,
		RequestID:  p.RequestID,
		Requester:  p.Requester,
		Spec:       jsoncol.EncodeSpec(p.Spec),
		CreateTime: now,
		UpdateTime: now,
	}
}

// fromProvisioningRow is the provisioning a row records, its times in UTC.
func fromProvisioningRow(row dbsqlc.Provisioning) (store.Provisioning, error) {
	p := store.Provisioning{
		Service:           row.Service,
		RequestID:         row.RequestID,
		Requester:         row.Requester,
		Generation:        row.Generation,
		AppliedGeneration: row.AppliedGeneration,
		CreateTime:        row.CreateTime.UTC(),
		UpdateTime:        row.UpdateTime.UTC(),
		ReadyTime:         timeOrZero(row.ReadyTime),
	}
	if err := jsoncol.DecodeSpec(row.Spec, &p.Spec); err != nil {
		return store.Provisioning{}, fmt.Errorf("decode provisioning %q: %w", row.Service, err)
	}
	return p, nil
}

// fromPromotionRow is the promotion a row records, its times in UTC.
func fromPromotionRow(row dbsqlc.Promotion) store.Promotion {
	return store.Promotion{
		Service:    row.Service,
		ID:         row.ID,
		RequestID:  row.RequestID,
		Revision:   row.Revision,
		State:      row.State,
		Requester:  row.Requester,
		Decider:    row.Decider,
		Reason:     row.Reason,
		CreateTime: row.CreateTime.UTC(),
		DecideTime: timeOrZero(row.DecideTime),
	}
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
