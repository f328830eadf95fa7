// Package store defines Cairn's storage: one interface made of small
// per-domain interfaces, implemented by each engine (store/sqlite,
// store/postgres) and proven equal by the conformance suite in
// store/storetest.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/cairn-dev/cairn/internal/money"
)

// Store is everything Cairn keeps.
type Store interface {
	CatalogStore
	AuditStore
	ProvisioningStore
	BillingStore
	BudgetStore
	MetricsStore
	PlatformStore
	NotificationStore
	ChangeStore

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
	// ErrAlreadyExists: a record with that key exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: the record is not in a state that allows the change.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the database cannot be reached right now.
	ErrUnavailable = errors.New("store unavailable")
	// ErrSchemaOutdated: migrations this binary knows are not applied yet.
	ErrSchemaOutdated = errors.New("store schema is out of date: run `cairn migrate`")
	// ErrSchemaNewer: a newer binary migrated the schema, which this one
	// may not read or write correctly; migrating will not help.
	ErrSchemaNewer = errors.New("store schema is newer than this Cairn: upgrade Cairn")
)

// ResourceError is a store call's error about one resource of the API,
// which Kind and Name say (a service and its name), so that the layers
// above can name it when they map the errors above: apierr.Rewrite does.
type ResourceError struct {
	Kind, Name string
	Err        error
}

func (e *ResourceError) Error() string { return e.Err.Error() }
func (e *ResourceError) Unwrap() error { return e.Err }

// NameHeldError is a write refused because the service name is another
// team's: a catalog entry of that team, or a name it retired by deleting
// its service, whose history (deployments, incidents, cost, provisioning
// and promotions, all kept by name) stays that team's.
type NameHeldError struct {
	Name string
	// Team holds the name; "" when it is not known (a name retired before
	// Cairn kept who held it).
	Team string
	// Retired: the name was deleted from the catalog; else the catalog
	// holds it.
	Retired bool
}

func (e *NameHeldError) Error() string {
	if e.Retired {
		return fmt.Sprintf("service name %q is retired, held by team %q", e.Name, e.Team)
	}
	return fmt.Sprintf("service %q is in the catalog under team %q", e.Name, e.Team)
}

// CatalogStore keeps the service catalog.
type CatalogStore interface {
	// UpsertService inserts svc, or replaces the service of the same name.
	// Inserting a name retired by another team than svc.Team is a
	// *NameHeldError; inserting one retired by svc.Team takes it back. When
	// ifMatch is not empty it must equal the stored etag, else
	// ErrEtagMismatch (and ErrNotFound when there is no such service). If the
	// stored service already has svc's content, nothing is written. It
	// returns the service as stored and whether it was inserted.
	UpsertService(ctx context.Context, svc *Service, ifMatch string) (stored *Service, created bool, err error)
	// GetService returns the named service or ErrNotFound.
	GetService(ctx context.Context, name string) (*Service, error)
	// ListServices returns up to limit services matching filter whose names
	// sort after `after`, in name order.
	ListServices(ctx context.Context, filter ServiceFilter, after string, limit int) ([]*Service, error)
	// DeleteService removes the named service or returns ErrNotFound, and
	// retires its name: the name stays its team's (see UpsertService). When
	// ifMatch is not empty it must equal the stored etag, else
	// ErrEtagMismatch.
	DeleteService(ctx context.Context, name, ifMatch string) error
	// ReleaseRetiredName forgets that team retired name, so that any team
	// may take it, with its history. ErrNotFound when name is not retired,
	// ErrConflict when another team retired it.
	ReleaseRetiredName(ctx context.Context, name, team string) error
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
	// AppendAuditEvent records e.Bounded() and returns it with its ID
	// set: whatever the strings, the event is stored.
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
	Code      string // the canonical status code as grpc-go names it, such as OK or PermissionDenied
	// Detail says in words what the call did where its action alone does
	// not, such as that a promotion is a rollback; often empty.
	Detail string
}

// AuditFilter narrows ListAuditEvents. Empty fields match everything; Start
// is inclusive and End exclusive.
type AuditFilter struct {
	Principal, Action, Target, Outcome string
	Start, End                         time.Time
}

// ProvisioningStore keeps what Cairn was asked to provision, which the
// reconciler applies to the cluster, and production promotions. Intent is
// written before anything is applied, so a crash loses nothing.
type ProvisioningStore interface {
	// CreateProvisioning records p and, unless the catalog holds a service
	// of that name already, svc, in one transaction. A provisioning of
	// p.Requester's p.RequestID already recorded is returned as it is, with
	// created false and nothing written; another provisioning of the same
	// service is ErrAlreadyExists. A catalog entry of another team than
	// svc.Team, or a name retired by one, is a *NameHeldError, and one
	// retired by svc.Team is taken back, as UpsertService does. Generation
	// starts at 1, AppliedGeneration at 0.
	CreateProvisioning(ctx context.Context, p Provisioning, svc *Service) (stored Provisioning, created bool, err error)
	// GetProvisioning returns the service's provisioning or ErrNotFound.
	GetProvisioning(ctx context.Context, service string) (Provisioning, error)
	// ListProvisionings returns up to limit provisionings whose service
	// names sort after `after`, in name order.
	ListProvisionings(ctx context.Context, after string, limit int) ([]Provisioning, error)
	// ListPendingProvisionings is ListProvisionings of those the reconciler
	// has work on: a generation not applied yet, or not ready yet.
	ListPendingProvisionings(ctx context.Context, after string, limit int) ([]Provisioning, error)
	// UpdateProvisioningSpec replaces the spec and moves Generation up by
	// one, if Generation still equals generation (else ErrConflict).
	UpdateProvisioningSpec(ctx context.Context, service string, spec ProvisioningSpec, generation int64) (Provisioning, error)
	// MarkProvisioningApplied records that the reconciler applied
	// generation; it never moves AppliedGeneration back.
	MarkProvisioningApplied(ctx context.Context, service string, generation int64) error
	// MarkProvisioningReady records when every resource was first ready;
	// later calls leave the first time in place.
	MarkProvisioningReady(ctx context.Context, service string, at time.Time) error

	// CreatePromotion records a pending promotion with a new ID, to
	// DefaultPromotionEnvironment when it names no Environment. One with
	// the same service, Requester and RequestID already recorded is
	// returned as it is, with created false.
	CreatePromotion(ctx context.Context, p Promotion) (stored Promotion, created bool, err error)
	// GetPromotion returns the promotion or ErrNotFound.
	GetPromotion(ctx context.Context, service string, id int64) (Promotion, error)
	// ListPromotions returns up to limit of the service's promotions with
	// IDs below `before` (0: from the newest), newest first.
	ListPromotions(ctx context.Context, service string, before int64, limit int) ([]Promotion, error)
	// DecidePromotion moves a pending promotion to state (approved or
	// denied) with its decider, reason and time; one that is not pending
	// is ErrConflict.
	DecidePromotion(ctx context.Context, service string, id int64, state, decider, reason string, at time.Time) (Promotion, error)
}

// Provisioning is what Cairn was asked to provision for one service.
type Provisioning struct {
	Service           string
	RequestID         string // the create request's request_id, unique per Requester; may be empty
	Requester         string // the principal who asked
	Spec              ProvisioningSpec
	Generation        int64 // moves up with every change of Spec
	AppliedGeneration int64 // the last Generation the reconciler applied
	CreateTime        time.Time
	UpdateTime        time.Time
	ReadyTime         time.Time // when every resource was first ready; zero until then
}

// ProvisioningSpec is what to provision. It is stored as one document.
type ProvisioningSpec struct {
	Owner           string   `json:"owner"`
	Team            string   `json:"team"`
	Description     string   `json:"description,omitempty"`
	Template        string   `json:"template,omitempty"`
	RepositoryURL   string   `json:"repositoryUrl,omitempty"`
	Database        string   `json:"database,omitempty"` // "" for none
	DatabaseSize    string   `json:"databaseSize,omitempty"`
	DatabaseVersion string   `json:"databaseVersion,omitempty"`
	Bucket          bool     `json:"bucket,omitempty"`
	Environments    []string `json:"environments,omitempty"`
	ReplicaCount    int32    `json:"replicaCount,omitempty"`
	// Revisions are the revisions approved promotions pointed environments
	// at, by environment.
	Revisions map[string]string `json:"revisions,omitempty"`
	// ProductionRevision is production's entry of Revisions, kept for the
	// replicas of an earlier Cairn that read only it; "" until a promotion
	// to production is approved.
	ProductionRevision string `json:"productionRevision,omitempty"`
}

// Revision is the revision an approved promotion pointed env at, "" if
// none did.
func (s ProvisioningSpec) Revision(env string) string {
	if r := s.Revisions[env]; r != "" {
		return r
	}
	if env == "production" {
		return s.ProductionRevision
	}
	return ""
}

// Promotion is a request to deploy a revision of a service to one of its
// environments.
type Promotion struct {
	Service    string
	ID         int64  // set by the store, increasing
	RequestID  string // unique per service and Requester; may be empty
	Revision   string
	State      string // pending, approved or denied
	Requester  string
	Decider    string
	Reason     string
	CreateTime time.Time
	DecideTime time.Time // zero while pending
	// Environment is the environment the promotion deploys to. The store
	// records an empty one as DefaultPromotionEnvironment, as promotions
	// were to production before they named their environment.
	Environment string
	// Rollback is set when the revision is one the environment ran
	// before: the caller sets it when it requests the promotion, and the
	// store keeps and returns it.
	Rollback bool
	// Evidence is what its approver is shown, computed when it was
	// requested: the caller sets it, and the store keeps and returns it.
	// Nil for a promotion recorded before Cairn kept evidence.
	Evidence *PromotionEvidence
}

// PromotionEvidence is what an approver is shown of a promotion's money
// and risk, as computed when it was requested. Amounts are micro-units of
// Currency. A figure that could not be computed is zero, with the field
// beside it saying why.
type PromotionEvidence struct {
	ComputeTime time.Time `json:"computeTime"`
	Currency    string    `json:"currency"`
	// MonthlyCostChange is the estimated change of the service's monthly
	// cost the promotion makes; CostChangeBasis says what it was priced
	// from.
	MonthlyCostChange int64  `json:"monthlyCostChange"`
	CostChangeBasis   string `json:"costChangeBasis"`
	// TeamSpent is the team's spend of the UTC month so far, TeamProjected
	// the spend projected to its end with the cost change; SpendUnknown
	// says why neither could be computed.
	TeamSpent     int64  `json:"teamSpent"`
	TeamProjected int64  `json:"teamProjected"`
	SpendUnknown  string `json:"spendUnknown,omitempty"`
	// TeamBudget is the team's monthly budget; 0 with BudgetNote saying
	// why when there is none to compare with.
	TeamBudget int64  `json:"teamBudget,omitempty"`
	BudgetNote string `json:"budgetNote,omitempty"`
	// ChangeFailureRate is the service's over the 30 days before, of
	// ChangeFailureDeployments deployments, in ChangeFailureBand ("" for
	// none).
	ChangeFailureRate        float64 `json:"changeFailureRate"`
	ChangeFailureDeployments int64   `json:"changeFailureDeployments"`
	ChangeFailureBand        string  `json:"changeFailureBand,omitempty"`
	// RunningRevision is what the target environment ran ("" for
	// nothing); OpenIncidents are the IDs of the service's open incidents
	// charged to it.
	RunningRevision string   `json:"runningRevision,omitempty"`
	OpenIncidents   []string `json:"openIncidents,omitempty"`
}

// ProjectedOverBudget says the team's projected spend is above a budget
// in the evidence's currency.
func (e PromotionEvidence) ProjectedOverBudget() bool {
	return e.SpendUnknown == "" && e.TeamBudget > 0 && e.TeamProjected > e.TeamBudget
}

// DefaultPromotionEnvironment is the environment of a promotion that names
// none.
const DefaultPromotionEnvironment = "production"

// BillingStore keeps imported billing data: the rows of FinOps FOCUS files.
type BillingStore interface {
	// ReplaceBilling imports rows from source in one transaction: the first
	// row of each month (by ChargePeriodStart, UTC) replaces every row that
	// source imported for that month before, so a re-import replaces and
	// never doubles. An error from rows, or from the store, rolls back the
	// whole import: earlier data stays as it was.
	ReplaceBilling(ctx context.Context, source string, rows iter.Seq2[BillingRow, error]) (BillingImport, error)
	// ServiceBilling returns a service's billed cost in each of months
	// (YYYY-MM), summed per resource and currency, in resource order, by
	// month: a month
	// in which nothing was billed is left out. One call reads them all, as
	// the cost card shows a month beside the one before.
	ServiceBilling(ctx context.Context, service string, months ...string) (map[string][]BilledResource, error)
	// LastBillingImport is when billing was last imported, or the zero time.
	LastBillingImport(ctx context.Context) (time.Time, error)
	// DailyBilling returns the summed EffectiveCost of the given services'
	// rows per UTC day of their ChargePeriodStart and currency, for the days
	// in [from, to), both UTC midnights, in day and currency order: only the
	// days that have rows. None for no services. Amounts of different
	// currencies are never added together.
	DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]DailyCost, error)
}

// BillingRow is one charge from a FOCUS file.
type BillingRow struct {
	ChargePeriodStart time.Time
	ChargePeriodEnd   time.Time
	ChargeCategory    string // Usage, Purchase, Tax, Credit, Adjustment
	// Service is the Cairn service the row maps to by its tag; empty when
	// the row carries no such tag (unmapped cost is kept and reported).
	Service         string
	ResourceID      string
	ServiceName     string // the provider's service, such as Amazon RDS
	ServiceCategory string // FOCUS's category, such as Databases or Storage
	Currency        string // ISO 4217
	// Costs in micro-units of Currency.
	BilledCost    int64
	EffectiveCost int64
	ListCost      int64
}

// BillingImport summarises one import.
type BillingImport struct {
	Rows         int64
	Months       []string // the months replaced, YYYY-MM, sorted
	UnmappedRows int64
	UnmappedCost money.Sum // EffectiveCost micro-units of the unmapped rows
	Currency     string
}

// BilledResource is a service's billed cost of one resource in a month.
type BilledResource struct {
	ResourceID      string
	ServiceCategory string
	EffectiveCost   money.Sum // micro-units of Currency, summed exactly
	Currency        string
}

// DailyCost is the billed cost of a day.
type DailyCost struct {
	Day           time.Time // UTC midnight
	Currency      string
	EffectiveCost money.Sum // micro-units of Currency, summed exactly
}

// BudgetStore keeps each team's monthly budget.
type BudgetStore interface {
	// PutBudget inserts the team's budget, or replaces the one it has, and
	// returns it as stored, with UpdateTime set.
	PutBudget(ctx context.Context, b Budget) (Budget, error)
	// GetBudget returns the team's budget or ErrNotFound.
	GetBudget(ctx context.Context, team string) (Budget, error)
	// ListBudgets returns every team's budget, by team.
	ListBudgets(ctx context.Context) ([]Budget, error)
}

// Budget is a team's monthly budget.
type Budget struct {
	Team          string
	MonthlyAmount int64 // micro-units of Currency
	Currency      string
	UpdateTime    time.Time // set by the store
}

// MetricsStore keeps the delivery events DORA metrics are computed from:
// deployments with the commits they shipped, incidents, and support
// tickets. Events are stored as they arrive, never sampled. Each write is
// idempotent on the event's natural key and reports created false for a
// repeat, which changes nothing of the stored event, whatever its other
// fields: only a deployment's repeat may add commits (see
// RecordDeployment). Times are kept to the microsecond.
type MetricsStore interface {
	// RecordDeployment stores d unless a deployment with its key (Service,
	// Environment, Revision, StartedAt) is stored. A repeat changes nothing
	// of the stored deployment (its status and times are the first
	// report's) but adds those of d's commits whose SHAs it does not list
	// yet, counted for lead time from the stored FinishedAt as if the first
	// report had carried them; commits listed already, whatever their
	// times, are left as they are, so that each is counted once. A repeat
	// listing a commit made after the stored FinishedAt is
	// *CommitsAfterFinishError and writes nothing. The caller checks d on
	// its own (see Deployment).
	RecordDeployment(ctx context.Context, d Deployment) (RecordedDeployment, error)
	// RecordIncident stores i unless an incident of its Service with its ID
	// is stored: an incident's ID is unique within its service.
	RecordIncident(ctx context.Context, i Incident) (created bool, err error)
	// GetIncident returns the service's incident or ErrNotFound.
	GetIncident(ctx context.Context, service, id string) (Incident, error)
	// FindIncidents returns every service's incident with id, in service
	// order: none when there is none.
	FindIncidents(ctx context.Context, id string) ([]Incident, error)
	// ResolveIncident records that the service's open incident was
	// resolved at `at`, which must not be before it opened, and returns it.
	// An incident resolved at `at` already is returned as it is; one
	// resolved at another time is ErrConflict, and a missing one
	// ErrNotFound.
	ResolveIncident(ctx context.Context, service, id string, at time.Time) (Incident, error)
	// RecordSupportTicket stores t unless a ticket with its Scope and ID is
	// stored.
	RecordSupportTicket(ctx context.Context, t SupportTicket) (created bool, err error)
	// CountSupportTickets counts the tickets opened in [from, to) per
	// category, in category order: only the categories that have tickets.
	CountSupportTickets(ctx context.Context, from, to time.Time) ([]TicketCount, error)
	// ServiceNames returns the names of the catalog's services of team, or
	// of every service when team is empty, in name order: the services a
	// team's or the organisation's DORA metrics cover.
	ServiceNames(ctx context.Context, team string) ([]string, error)
	// DeliveryFacts returns what DORA metrics are computed from, for the
	// given services' deployments to any of environments and their
	// incidents, in the period [from, to): none for no services or no
	// environments.
	DeliveryFacts(ctx context.Context, services, environments []string, from, to time.Time) (DeliveryFacts, error)
	// ChargeIncidents charges by time, anew, the service's incidents that
	// name no revision and no person corrected, opened in [c.OpenedFrom,
	// c.OpenedTo]: each to the last successful deployment of the service
	// to any of c.Environments that finished within c.Window before it
	// opened (link ChargeInferred), or to none. The deployments' change
	// failure counts follow. Recording an incident or a deployment does not
	// charge by time: the caller, which knows the environments and the
	// window, calls this after, and a second call changes nothing.
	ChargeIncidents(ctx context.Context, c IncidentCharging) error
	// CorrectIncidentCharge charges the service's incident id, as a person
	// says, to the last-finished deployment of revision to any of
	// environments, or to none when revision is "" (link ChargeCorrected),
	// and returns it. A missing incident, or a revision with no such
	// deployment, is ErrNotFound and changes nothing.
	CorrectIncidentCharge(ctx context.Context, service, id, revision string, environments []string) (ChargedIncident, error)
	// ListDeployments returns a page of deployments, newest first (see
	// DeploymentQuery), each with its commits and the incidents charged to
	// it.
	ListDeployments(ctx context.Context, q DeploymentQuery) ([]ListedDeployment, error)
	// ListIncidents returns a page of incidents, newest first (see
	// IncidentQuery), each with the deployment it is charged to.
	ListIncidents(ctx context.Context, q IncidentQuery) ([]ChargedIncident, error)
	// OpenIncidentsOfRevision returns the service's open incidents charged
	// to a deployment of revision, named, inferred or corrected, oldest
	// first.
	OpenIncidentsOfRevision(ctx context.Context, service, revision string) ([]Incident, error)
}

// How an incident is charged to a deployment.
const (
	ChargeNone      = ""          // charged to nothing
	ChargeNamed     = "named"     // the incident names the deployment's revision
	ChargeInferred  = "inferred"  // by time: the last production deployment within the window before it opened
	ChargeCorrected = "corrected" // a person chose the deployment, or none
)

// IncidentCharging is what charging incidents by time needs.
type IncidentCharging struct {
	Service string
	// Environments are the production-like environments whose deployments
	// incidents are charged to.
	Environments []string
	// Window is how long before an incident opened a deployment may have
	// finished to be charged with it.
	Window time.Duration
	// OpenedFrom and OpenedTo bound, both included, the opening times of
	// the incidents to charge anew.
	OpenedFrom, OpenedTo time.Time
}

// DeploymentRef is a stored deployment, as an incident's charge names it.
type DeploymentRef struct {
	ID          int64
	Environment string
	Revision    string
	Status      string
	FinishedAt  time.Time
}

// ChargedIncident is an incident with the deployment it is charged to.
type ChargedIncident struct {
	Incident
	// Link is how it is charged: one of the Charge constants.
	Link string
	// Deployment is the deployment it is charged to; ID 0 when none. A
	// named charge covers every deployment of the revision; Deployment is
	// then the last-finished one to a production environment (see
	// IncidentQuery), else to any.
	Deployment DeploymentRef
}

// ListedDeployment is a stored deployment with the incidents charged to
// it, newest first.
type ListedDeployment struct {
	ID int64
	Deployment
	Incidents []ChargedIncident
}

// DeploymentQuery selects a page of deployments.
type DeploymentQuery struct {
	// Services are the services whose deployments are listed; none lists
	// nothing.
	Services []string
	// Environment and Status filter when not "".
	Environment, Status string
	// FinishedFrom and FinishedTo bound the finish time: [from, to).
	FinishedFrom, FinishedTo time.Time
	// AfterFinished and AfterID continue after the last deployment of the
	// previous page; AfterFinished zero starts at FinishedTo.
	AfterFinished time.Time
	AfterID       int64
	// Limit is the page size, at least 1.
	Limit int
}

// Incident states an IncidentQuery filters on.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// IncidentQuery selects a page of incidents.
type IncidentQuery struct {
	Services []string
	// State is IncidentOpen, IncidentResolved, or "" for both.
	State string
	// OpenedFrom and OpenedTo bound the opening time: [from, to).
	OpenedFrom, OpenedTo time.Time
	// AfterOpened, AfterService and AfterID continue after the last
	// incident of the previous page; AfterOpened zero starts at OpenedTo.
	AfterOpened           time.Time
	AfterService, AfterID string
	// Production are the environments whose deployment a named charge
	// shows first.
	Production []string
	Limit      int
}

// Deployment statuses.
const (
	DeploymentSucceeded = "succeeded"
	DeploymentFailed    = "failed"
)

// Deployment is one deployment of a revision of a service to an
// environment.
type Deployment struct {
	Service     string
	Environment string
	Revision    string
	Status      string // DeploymentSucceeded or DeploymentFailed
	StartedAt   time.Time
	FinishedAt  time.Time // not before StartedAt
	Commits     []Commit  // distinct SHAs, none committed after FinishedAt
}

// Commit is a commit a deployment shipped.
type Commit struct {
	SHA         string
	CommittedAt time.Time
}

// RecordedDeployment is what RecordDeployment did with a deployment.
type RecordedDeployment struct {
	// Created is true when the deployment was new, false for a repeat.
	Created bool
	// Status and FinishedAt are the stored deployment's: the new one's, or
	// for a repeat the first report's, which its commits' lead times count
	// from.
	Status     string
	FinishedAt time.Time
	// AddedCommits are the deployment's commits this call stored, in the
	// order given: all of a new deployment's, those of a repeat's that
	// were not listed yet.
	AddedCommits []Commit
}

// CommitsAfterFinishError is RecordDeployment refusing a repeat of a
// stored deployment that lists commits made after the stored deployment
// finished, which it could not have shipped.
type CommitsAfterFinishError struct {
	// FinishedAt is when the stored deployment finished.
	FinishedAt time.Time
	// Commits are the indexes, in the repeat's Commits, of the commits made
	// after FinishedAt, in order.
	Commits []int
}

func (e *CommitsAfterFinishError) Error() string {
	return fmt.Sprintf("%d commits made after the recorded deployment finished, at %s",
		len(e.Commits), e.FinishedAt.Format(time.RFC3339Nano))
}

// Incident is an incident of a service, from an incident tool.
type Incident struct {
	ID            string
	Service       string
	OpenedAt      time.Time
	ResolvedAt    time.Time // zero while open; not before OpenedAt
	CauseRevision string    // the revision whose deployment caused it; "" when not known
}

// SupportTicket is a ticket raised with the platform team.
type SupportTicket struct {
	// Scope is what ID is unique within, such as `teams/team-orders`; set
	// by the caller.
	Scope    string
	ID       string
	Category string
	Team     string // "" when the ticket names none
	OpenedAt time.Time
}

// TicketCount is the number of support tickets of a category.
type TicketCount struct {
	Category string
	Count    int64
}

// DeliveryFacts are a set of services' delivery events of a period, as
// DORA metrics need them.
type DeliveryFacts struct {
	// Days counts the deployments to the environments that finished in the
	// period, per UTC day of their finish: only the days that have some,
	// in day order.
	Days []DeploymentDay
	// LeadTimes are, for every commit of every successful deployment
	// counted in Days, its deployment's finish less its commit time, in no
	// particular order.
	LeadTimes []time.Duration
	// RestoreTimes are, for every incident resolved in the period, its
	// resolution less its opening time, in no particular order.
	RestoreTimes []time.Duration
}

// DeploymentDay counts the deployments that finished on one UTC day.
type DeploymentDay struct {
	Day       time.Time // UTC midnight
	Succeeded int64
	Failed    int64
	// IncidentCausing counts the successful deployments an incident of
	// their service is charged to (named, inferred or corrected; see
	// ChargedIncident), whenever the incident was recorded.
	IncidentCausing int64
}

// PlatformStore reads what the platform's own metrics are computed from:
// the catalog, and the delivery events MetricsStore keeps, summed in the
// database. A service counts under its catalog team now, and services no
// longer in the catalog do not count.
type PlatformStore interface {
	// FirstDeployments returns each catalog service whose first successful
	// deployment, to any environment, finished in [from, to), with its
	// catalog creation time, in name order.
	FirstDeployments(ctx context.Context, from, to time.Time) ([]FirstDeployment, error)
	// CountServices counts the catalog's services per team and golden-path
	// status, in team order (bytes), off the golden path first: only the
	// pairs that have services.
	CountServices(ctx context.Context) ([]TeamServiceCount, error)
	// CountActiveServices counts, per team and environment, the catalog's
	// services with at least one successful deployment to the environment
	// that finished in [from, to), in team then environment order (bytes):
	// only the pairs that have some.
	CountActiveServices(ctx context.Context, from, to time.Time) ([]ActiveServiceCount, error)
}

// FirstDeployment is when a service entered the catalog and when its first
// successful deployment finished. A service registered after it started
// deploying has its first deployment before its creation.
type FirstDeployment struct {
	Service         string
	CreateTime      time.Time
	FirstDeployedAt time.Time
}

// TeamServiceCount counts a team's services on or off the golden path.
type TeamServiceCount struct {
	Team       string
	GoldenPath bool
	Count      int64
}

// ActiveServiceCount counts a team's services deployed to an environment.
type ActiveServiceCount struct {
	Team        string
	Environment string
	Count       int64
}

// NotificationStore is the outbox of the messages Cairn sends (a team's
// Slack channel, Backstage's notifications): each kept until it is sent,
// so that a crash or a restart loses none, and keyed by its event and
// destination, so that several replicas enqueueing one event keep one.
type NotificationStore interface {
	// EnqueueNotifications keeps each of ns whose Key is not kept yet, and
	// returns how many were new. Key, Destination and Kind are required.
	EnqueueNotifications(ctx context.Context, ns []Notification) (int, error)
	// ClaimNotifications returns up to limit notifications due at now
	// (not sent, not given up, their next attempt reached, no other
	// claim's lease running), oldest first, and leases them until until:
	// no other claim returns them before then.
	ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]Notification, error)
	// MarkNotificationSent records notification id sent at at.
	MarkNotificationSent(ctx context.Context, id int64, at time.Time) error
	// RetryNotification records a failed attempt at notification id: one
	// more attempt, lastError, and the next attempt at next; a zero next
	// gives it up. The lease ends.
	RetryNotification(ctx context.Context, id int64, lastError string, next time.Time) error
	// ListNotifications lists the notifications of a destination, newest
	// first, up to limit (all destinations for "").
	ListNotifications(ctx context.Context, destination string, limit int) ([]Notification, error)

	// PromotionsToNotify returns up to limit promotions whose state is
	// not the one last notified (MarkPromotionNotified), oldest first.
	// Promotions recorded before notifications existed count as notified.
	PromotionsToNotify(ctx context.Context, limit int) ([]Promotion, error)
	// MarkPromotionNotified records that the promotion was notified in
	// state.
	MarkPromotionNotified(ctx context.Context, service string, id int64, state string) error
}

// Notification is one message to one destination.
type Notification struct {
	ID int64 // set by the store, increasing
	// Key names the event and the destination, such as
	// promotion/orders-service/3/pending slack:team-orders.
	Key string
	// Destination is where it goes: slack:TEAM (the team's channel) or
	// backstage:ENTITYREF (a Backstage notification's recipient).
	Destination string
	// Kind is what happened: promotion_requested, promotion_approved, ...
	Kind          string
	Team, Service string
	// Title and Text are the message, Link a page it is about.
	Title, Text, Link string
	CreateTime        time.Time
	Attempts          int
	LastError         string
	NextAttemptTime   time.Time
	SentTime          time.Time // zero until sent
	GaveUp            bool
}

// ChangeStore reads the changes of services that cost regressions are
// judged on: successful deployments and approved promotions.
type ChangeStore interface {
	// ListChanges returns the given services' successful deployments to
	// any of environments that finished in [from, to), and their
	// promotions to any of environments approved in [from, to), in time,
	// then service, order: none for no services or no environments. A
	// promotion is left out when a deployment of its service, environment
	// and revision finished in [from, to): that deployment is the change,
	// as it shipped, and counting both would count one change twice.
	ListChanges(ctx context.Context, services, environments []string, from, to time.Time) ([]Change, error)
	// CountChangeDays counts the changes ListChanges lists per service and
	// UTC day, in service then day order: only the days that have some. A
	// rate needs no more, as all of a service's changes of a day are
	// judged alike, and counting in the database reads far fewer rows.
	CountChangeDays(ctx context.Context, services, environments []string, from, to time.Time) ([]ChangeDay, error)
}

// ChangeDay counts a service's changes on a UTC day.
type ChangeDay struct {
	Service string
	Day     time.Time // UTC midnight
	Changes int64
}

// Kinds of change.
const (
	ChangeDeployment = "deployment"
	ChangePromotion  = "promotion"
)

// Change is one change of a service: a successful deployment or an
// approved promotion.
type Change struct {
	Service     string
	Kind        string // ChangeDeployment or ChangePromotion
	Environment string
	Revision    string
	// Time is when the deployment finished or the promotion was approved.
	Time time.Time
	// PromotionID is the promotion's ID; 0 for a deployment.
	PromotionID int64
}
