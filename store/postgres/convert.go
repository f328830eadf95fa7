package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cairn-dev/cairn/store"
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
		Labels:         encodeMap(svc.Labels),
		Annotations:    encodeMap(svc.Annotations),
		Tags:           encodeList(svc.Tags),
		Links:          encodeList(svc.Links),
		ProvidesApis:   encodeList(svc.ProvidesAPIs),
		ConsumesApis:   encodeList(svc.ConsumesAPIs),
		DependsOn:      encodeList(svc.DependsOn),
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
		decodeMap(row.Labels, &svc.Labels),
		decodeMap(row.Annotations, &svc.Annotations),
		decodeList(row.Tags, &svc.Tags),
		decodeList(row.Links, &svc.Links),
		decodeList(row.ProvidesApis, &svc.ProvidesAPIs),
		decodeList(row.ConsumesApis, &svc.ConsumesAPIs),
		decodeList(row.DependsOn, &svc.DependsOn),
	)
	if err != nil {
		return nil, fmt.Errorf("decode service %q: %w", row.Name, err)
	}
	return svc, nil
}

// The JSONB columns always hold an array or an object, never null. Encoding
// string maps and slices of strings or Links cannot fail.

func encodeList[T string | store.Link](list []T) []byte {
	if len(list) == 0 {
		return []byte("[]")
	}
	b, _ := json.Marshal(list)
	return b
}

func encodeMap(m map[string]string) []byte {
	if len(m) == 0 {
		return []byte("{}")
	}
	b, _ := json.Marshal(m)
	return b
}

// decodeList sets *dst to the list in data, leaving it nil when empty.
func decodeList[T string | store.Link](data []byte, dst *[]T) error {
	var list []T
	if err := json.Unmarshal(data, &list); err != nil {
		return err
	}
	if len(list) > 0 {
		*dst = list
	}
	return nil
}

// decodeMap sets *dst to the map in data, leaving it nil when empty.
func decodeMap(data []byte, dst *map[string]string) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	if len(m) > 0 {
		*dst = m
	}
	return nil
}
