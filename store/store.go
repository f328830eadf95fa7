// Package store defines Cairn's storage: one interface made of small
// per-domain interfaces, implemented by each engine (store/sqlite,
// store/postgres) and proven equal by the conformance suite in
// store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// Store is everything Cairn keeps.
type Store interface {
	CatalogStore
	AuditStore

	// Migrate brings the schema up to date. Running it again is a no-op.
	Migrate(ctx context.Context) error
	// CheckSchema reports whether the schema is the one this binary
	// migrates to, without changing it: nil when every migration is
	// applied, ErrSchemaOutdated when some are not (a new, empty database
	// included), ErrSchemaNewer when the database records a migration this
	// binary does not know, and ErrUnavailable when the database cannot be
	// reached. The error names the migrations at fault.
	CheckSchema(ctx context.Context) error
	// Ping reports whether the store can serve requests now.
	Ping(ctx context.Context) error
	// Close releases the store's connections.
	Close() error
}

// Errors every engine returns, so that the layers above can tell them apart
// without knowing the engine.
var (
	// ErrNotFound: the addressed record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrEtagMismatch: the caller's etag no longer matches the record.
	ErrEtagMismatch = errors.New("etag mismatch")
	// ErrUnavailable: the database cannot be reached right now.
	ErrUnavailable = errors.New("store unavailable")
	// ErrSchemaOutdated: migrations this binary knows are not applied yet.
	ErrSchemaOutdated = errors.New("store schema is out of date: run `cairn migrate`")
	// ErrSchemaNewer: a newer binary migrated the schema, which this one
	// may not read or write correctly; migrating will not help.
	ErrSchemaNewer = errors.New("store schema is newer than this Cairn: upgrade Cairn")
)

// CatalogStore keeps the service catalog.
type CatalogStore interface {
	// UpsertService inserts svc, or replaces the service of the same name.
	// When ifMatch is not empty it must equal the stored etag, else
	// ErrEtagMismatch (and ErrNotFound when there is no such service). If the
	// stored service already has svc's content, nothing is written. It
	// returns the service as stored and whether it was inserted.
	UpsertService(ctx context.Context, svc *Service, ifMatch string) (stored *Service, created bool, err error)
	// GetService returns the named service or ErrNotFound.
	GetService(ctx context.Context, name string) (*Service, error)
	// ListServices returns up to limit services matching filter whose names
	// sort after `after`, in name order.
	ListServices(ctx context.Context, filter ServiceFilter, after string, limit int) ([]*Service, error)
	// DeleteService removes the named service or returns ErrNotFound. When
	// ifMatch is not empty it must equal the stored etag, else
	// ErrEtagMismatch.
	DeleteService(ctx context.Context, name, ifMatch string) error
	// ListTeams returns up to limit teams that own services, whose names sort
	// after `after`, in name order.
	ListTeams(ctx context.Context, after string, limit int) ([]Team, error)
}

// Service is a catalog entry: a Backstage Component. Name is the bare
// component name (`orders-service`), not the API resource name.
type Service struct {
	Name           string
	Title          string
	Description    string
	Labels         map[string]string
	Annotations    map[string]string
	Tags           []string
	Links          []Link
	Type           string
	Lifecycle      string
	Owner          string
	Team           string
	System         string
	ProvidesAPIs   []string
	ConsumesAPIs   []string
	DependsOn      []string
	GoldenPath     bool
	SourceTemplate string

	// Set by the store.
	CreateTime time.Time
	UpdateTime time.Time
	Etag       string
}

// Link is a link shown on a service's page.
type Link struct {
	URL   string `json:"url"`
	Title string `json:"title,omitempty"`
	Icon  string `json:"icon,omitempty"`
	Type  string `json:"type,omitempty"`
}

// ServiceFilter narrows ListServices. Empty fields match everything.
type ServiceFilter struct {
	Team       string
	System     string
	Lifecycle  string
	Tag        string
	GoldenPath *bool
}

// Team is a team that owns services.
type Team struct {
	Name                   string
	ServiceCount           int
	GoldenPathServiceCount int
}

// AuditStore keeps the audit log: one event per mutating call.
type AuditStore interface {
	// AppendAuditEvent records e and returns it with its ID set.
	AppendAuditEvent(ctx context.Context, e AuditEvent) (AuditEvent, error)
	// ListAuditEvents returns up to limit events matching filter, newest
	// first (by ID), with IDs below `before` (0: from the newest).
	ListAuditEvents(ctx context.Context, filter AuditFilter, before int64, limit int) ([]AuditEvent, error)
}

// AuditEvent is the record of one mutating call, allowed or denied.
type AuditEvent struct {
	ID        int64 // set by the store, increasing
	Time      time.Time
	Principal string // who called; "anonymous" when not authenticated
	Action    string // the RPC, such as cairn.v1.CatalogService/RegisterService
	Target    string // the resource acted on, such as services/orders-service; may be empty
	RequestID string
	Outcome   string // succeeded, failed or denied
	Code      string // the canonical status code, such as OK or PERMISSION_DENIED
}

// AuditFilter narrows ListAuditEvents. Empty fields match everything; Start
// is inclusive and End exclusive.
type AuditFilter struct {
	Principal, Action, Target, Outcome string
	Start, End                         time.Time
}
