package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/jsoncol"
	"github.com/cairn-dev/cairn/store/sqlite/internal/dbsqlc"
)

// toParams is the row that stores svc, stamped at now. The create time is
// only used when the row is new. The JSON columns are TEXT, which sqlc
// reads and writes as strings.
func toParams(svc *store.Service, now time.Time) dbsqlc.UpsertServiceParams {
	micros := now.UnixMicro()
	return dbsqlc.UpsertServiceParams{
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
		Labels:         string(jsoncol.EncodeMap(svc.Labels)),
		Annotations:    string(jsoncol.EncodeMap(svc.Annotations)),
		Tags:           string(jsoncol.EncodeList(svc.Tags)),
		Links:          string(jsoncol.EncodeList(svc.Links)),
		ProvidesApis:   string(jsoncol.EncodeList(svc.ProvidesAPIs)),
		ConsumesApis:   string(jsoncol.EncodeList(svc.ConsumesAPIs)),
		DependsOn:      string(jsoncol.EncodeList(svc.DependsOn)),
		Etag:           store.ContentEtag(svc),
		CreateTime:     micros,
		UpdateTime:     micros,
	}
}

// fromRow is the service a row stores. Empty collections come back nil.
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
		CreateTime:     time.UnixMicro(row.CreateTime).UTC(),
		UpdateTime:     time.UnixMicro(row.UpdateTime).UTC(),
		Etag:           row.Etag,
	}
	err := errors.Join(
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

// toAuditParams is the row that records e, its time in whole microseconds.
func toAuditParams(e store.AuditEvent) dbsqlc.AppendAuditEventParams {
	return dbsqlc.AppendAuditEventParams{
		Time:      e.Time.UnixMicro(),
		Principal: e.Principal,
		Action:    e.Action,
		Target:    e.Target,
		RequestID: e.RequestID,
		Outcome:   e.Outcome,
		Code:      e.Code,
	}
}

// fromAuditRow is the event a row records.
func fromAuditRow(row dbsqlc.AuditEvent) store.AuditEvent {
	return store.AuditEvent{
		ID:        row.ID,
		Time:      time.UnixMicro(row.Time).UTC(),
		Principal: row.Principal,
		Action:    row.Action,
		Target:    row.Target,
		RequestID: row.RequestID,
		Outcome:   row.Outcome,
		Code:      row.Code,
	}
}

// toProvisioningParams is the row that records p, stamped at now. The
// store sets the generations, and the ready time is NULL.
func toProvisioningParams(p store.Provisioning, now time.Time) dbsqlc.InsertProvisioningParams {
	micros := now.UnixMicro()
	return dbsqlc.InsertProvisioningParams{
		Service:    p.Service,
		RequestID:  p.RequestID,
		Requester:  p.Requester,
		Spec:       string(jsoncol.EncodeSpec(p.Spec)),
		CreateTime: micros,
		UpdateTime: micros,
	}
}

// fromProvisioningRow is the provisioning a row records.
func fromProvisioningRow(row dbsqlc.Provisioning) (store.Provisioning, error) {
	p := store.Provisioning{
		Service:           row.Service,
		RequestID:         row.RequestID,
		Requester:         row.Requester,
		Generation:        row.Generation,
		AppliedGeneration: row.AppliedGeneration,
		CreateTime:        time.UnixMicro(row.CreateTime).UTC(),
		UpdateTime:        time.UnixMicro(row.UpdateTime).UTC(),
		ReadyTime:         timeOrZero(row.ReadyTime),
	}
	if err := jsoncol.DecodeSpec([]byte(row.Spec), &p.Spec); err != nil {
		return store.Provisioning{}, fmt.Errorf("decode provisioning %q: %w", row.Service, err)
	}
	return p, nil
}

// fromPromotionRow is the promotion a row records.
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
		CreateTime: time.UnixMicro(row.CreateTime).UTC(),
		DecideTime: timeOrZero(row.DecideTime),
	}
}

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
	return time.UnixMicro(micros.Int64).UTC()
}
