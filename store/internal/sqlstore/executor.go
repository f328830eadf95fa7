package sqlstore

import (
	"context"
	"time"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/internal/auditlog"
	"github.com/cairn-dev/cairn/store/internal/billing"
	"github.com/cairn-dev/cairn/store/internal/provisioning"
)

// Executor runs an engine's queries, converting between its rows and the
// store's types. A query of one row that reads none returns an error for
// which the engine's IsNoRows holds. Times the store stamps are given as
// now; the engine keeps them to the microsecond.
type Executor interface {
	// GetService reads the named service.
	GetService(ctx context.Context, name string) (*store.Service, error)
	// LockService is GetService that also locks the service's row until
	// the transaction ends, where the engine locks rows, so that writers
	// of one service take turns.
	LockService(ctx context.Context, name string) (*store.Service, error)
	// WriteService inserts svc stamped at now or, when replace is set,
	// replaces the stored service of its name, keeping its create time.
	// An insert that finds the name taken writes nothing and reads no
	// row.
	WriteService(ctx context.Context, svc *store.Service, replace bool, now time.Time) (*store.Service, error)
	// ReplaceServiceTags replaces the tag rows of the service name with
	// one row per distinct tag.
	ReplaceServiceTags(ctx context.Context, name string, tags []string) error
	// ListServices reads up to limit (not negative) services matching
	// filter whose names sort after `after`, in name order.
	ListServices(ctx context.Context, filter store.ServiceFilter, after string, limit int64) ([]*store.Service, error)
	DeleteService(ctx context.Context, name string) error
	// RetireService leaves a deleted service's name to team.
	RetireService(ctx context.Context, name, team string, at time.Time) error
	// GetRetiredService reads the team that retired name.
	GetRetiredService(ctx context.Context, name string) (team string, err error)
	DeleteRetiredService(ctx context.Context, name string) error
	ListTeams(ctx context.Context, after string, limit int64) ([]store.Team, error)

	AppendAuditEvent(ctx context.Context, e store.AuditEvent) (store.AuditEvent, error)
	ListAuditEvents(ctx context.Context, q auditlog.Query) ([]store.AuditEvent, error)

	// InsertProvisioning records p, stamped at now; when its service or
	// its requester's request id is taken, it writes nothing and reads no
	// row.
	InsertProvisioning(ctx context.Context, p store.Provisioning, now time.Time) (store.Provisioning, error)
	GetProvisioning(ctx context.Context, service string) (store.Provisioning, error)
	GetProvisioningByRequestID(ctx context.Context, requester, requestID string) (store.Provisioning, error)
	ListProvisionings(ctx context.Context, after string, limit int64) ([]store.Provisioning, error)
	ListPendingProvisionings(ctx context.Context, after string, limit int64) ([]store.Provisioning, error)
	// UpdateProvisioningSpec replaces the spec of the provisioning at
	// generation and moves its generation up; it reads no row when the
	// provisioning is missing or at another generation.
	UpdateProvisioningSpec(ctx context.Context, service string, spec store.ProvisioningSpec, generation int64, now time.Time) (store.Provisioning, error)
	// MarkProvisioningApplied and MarkProvisioningReady return how many
	// provisionings they found: 0 or 1.
	MarkProvisioningApplied(ctx context.Context, service string, generation int64) (int64, error)
	MarkProvisioningReady(ctx context.Context, service string, at time.Time) (int64, error)
	// InsertPromotion records a pending promotion, stamped at now; when
	// its request id is taken, or its service has no provisioning, it
	// writes nothing and reads no row.
	InsertPromotion(ctx context.Context, p store.Promotion, now time.Time) (store.Promotion, error)
	GetPromotion(ctx context.Context, service string, id int64) (store.Promotion, error)
	GetPromotionByRequestID(ctx context.Context, service, requester, requestID string) (store.Promotion, error)
	ListPromotions(ctx context.Context, service string, page provisioning.PromotionPage) ([]store.Promotion, error)
	// DecidePromotion decides a pending promotion; it reads no row when
	// the promotion is missing or decided.
	DecidePromotion(ctx context.Context, service string, id int64, state, decider, reason string, at time.Time) (store.Promotion, error)

	// DeleteBillingMonth deletes the record of the month source imported
	// and returns its id; it reads no row when there is none.
	DeleteBillingMonth(ctx context.Context, source, month string) (int64, error)
	// DeleteBillingMonthRows deletes the charges and sums of a month id.
	DeleteBillingMonthRows(ctx context.Context, id int64) error
	InsertBillingMonth(ctx context.Context, source, month, currency string, importedAt time.Time) (int64, error)
	// InsertBilling writes a batch's charges and sums, of the months of
	// monthIDs.
	InsertBilling(ctx context.Context, b *billing.Batch, monthIDs map[string]int64) error
	// ServiceBilling reads a service's billed resources of some months (at
	// least one), by month, then resource.
	ServiceBilling(ctx context.Context, service string, months []string) ([]BilledRow, error)
	// LastBillingImport reads no row before the first import.
	LastBillingImport(ctx context.Context) (time.Time, error)
	DailyBilling(ctx context.Context, services []string, from, to time.Time) ([]store.DailyCost, error)

	PutBudget(ctx context.Context, b store.Budget, now time.Time) (store.Budget, error)
	GetBudget(ctx context.Context, team string) (store.Budget, error)
	ListBudgets(ctx context.Context) ([]store.Budget, error)

	// EnqueueNotification keeps n, stamped at now (its first attempt then
	// too), unless its key is kept: created says which.
	EnqueueNotification(ctx context.Context, n store.Notification, now time.Time) (created bool, err error)
	ClaimNotifications(ctx context.Context, now, until time.Time, limit int) ([]store.Notification, error)
	// MarkNotificationSent and RetryNotification change a notification
	// not sent yet: found says there was one.
	MarkNotificationSent(ctx context.Context, id int64, at time.Time) (found bool, err error)
	RetryNotification(ctx context.Context, id int64, lastError string, next time.Time, gaveUp bool) (found bool, err error)
	ListNotifications(ctx context.Context, destination string, limit int) ([]store.Notification, error)
	PromotionsToNotify(ctx context.Context, limit int) ([]store.Promotion, error)
	MarkPromotionNotified(ctx context.Context, service string, id int64, state string) error

	// LockServiceEvents takes the lock on which the writers of one
	// service's deployments and incidents take turns, until the
	// transaction ends: a no-op where every write transaction holds the
	// database's write lock.
	LockServiceEvents(ctx context.Context, service string) error
	// InsertDeployment records d, stamped at now, unless a deployment of
	// its key is recorded: then it writes nothing and reads no row.
	// causedIncident: an incident recorded before names its revision.
	InsertDeployment(ctx context.Context, d store.Deployment, now time.Time) (id int64, causedIncident bool, err error)
	// StoredDeployment reads the recorded deployment of d's key.
	StoredDeployment(ctx context.Context, d store.Deployment) (id int64, status string, finishedAt time.Time, err error)
	// InsertDeploymentCommits adds commits to the deployment id, but
	// those it lists already, and returns those it added, in the order
	// given.
	InsertDeploymentCommits(ctx context.Context, id int64, commits []store.Commit) ([]store.Commit, error)
	// CountDeployments adds c to what its day counts.
	CountDeployments(ctx context.Context, c DeploymentCount) error
	// InsertIncident records i, stamped at now, unless it is recorded.
	InsertIncident(ctx context.Context, i store.Incident, now time.Time) (inserted bool, err error)
	// MarkIncidentCauses marks the service's deployments of revision as
	// causing an incident, and returns those it marked.
	MarkIncidentCauses(ctx context.Context, service, revision string) ([]MarkedDeployment, error)
	GetIncident(ctx context.Context, service, id string) (store.Incident, error)
	FindIncidents(ctx context.Context, id string) ([]store.Incident, error)
	// ResolveIncident resolves the incident at `at` unless it is resolved.
	ResolveIncident(ctx context.Context, service, id string, at time.Time) error
	InsertSupportTicket(ctx context.Context, t store.SupportTicket, now time.Time) (inserted bool, err error)
	CountSupportTickets(ctx context.Context, from, to time.Time) ([]store.TicketCount, error)
	ServiceNames(ctx context.Context) ([]string, error)
	TeamServiceNames(ctx context.Context, team string) ([]string, error)
	// DeliveryFacts reads the facts of some services and environments (at
	// least one of each).
	DeliveryFacts(ctx context.Context, services, environments []string, from, to time.Time) (store.DeliveryFacts, error)
	// InferredChargeDeployment reads the id of the last successful
	// deployment of service to environments (at least one) that finished
	// in [from, to]; no row when there is none.
	InferredChargeDeployment(ctx context.Context, service string, environments []string, from, to time.Time) (int64, error)
	// IncidentsToInfer reads the service's incidents opened in [from, to]
	// that name no revision and are not corrected.
	IncidentsToInfer(ctx context.Context, service string, from, to time.Time) ([]IncidentToInfer, error)
	// IncidentCharge reads an incident's link and charged deployment id (0
	// for none).
	IncidentCharge(ctx context.Context, service, id string) (link string, deploymentID int64, causeRevision string, err error)
	// ChargeIncident sets an incident's charged deployment (0 for none)
	// and link.
	ChargeIncident(ctx context.Context, service, id string, deploymentID int64, link string) error
	// DeploymentCharge reads a deployment as its day counts it, and
	// whether an incident is charged to it now.
	DeploymentCharge(ctx context.Context, id int64) (DeploymentCharge, error)
	SetCausedIncident(ctx context.Context, id int64, caused bool) error
	// RevisionDeployments reads the service's deployments of revision, in
	// no order (see revisionDeployments).
	RevisionDeployments(ctx context.Context, service, revision string) ([]store.DeploymentRef, error)
	GetDeploymentRef(ctx context.Context, id int64) (store.DeploymentRef, error)
	// ListDeployments reads a page of deployments without their commits
	// or incidents; q.AfterFinished is set.
	ListDeployments(ctx context.Context, q store.DeploymentQuery) ([]store.ListedDeployment, error)
	// DeploymentCommits reads the commits of the deployments ids, by id.
	DeploymentCommits(ctx context.Context, ids []int64) (map[int64][]store.Commit, error)
	// IncidentsChargedTo reads the incidents inferred or corrected to the
	// deployments ids, with their deployment id in Deployment.ID.
	IncidentsChargedTo(ctx context.Context, ids []int64) ([]store.ChargedIncident, error)
	// IncidentsNaming reads the service's named incidents of revision.
	IncidentsNaming(ctx context.Context, service, revision string) ([]store.ChargedIncident, error)
	// ListIncidents reads a page of incidents with their charged
	// deployment's id only; q.AfterOpened is set.
	ListIncidents(ctx context.Context, q store.IncidentQuery) ([]store.ChargedIncident, error)
	OpenIncidentsOfRevision(ctx context.Context, service, revision string) ([]store.Incident, error)

	FirstDeployments(ctx context.Context, from, to time.Time) ([]store.FirstDeployment, error)
	// ChangeDeployments and ChangePromotions read the two kinds of
	// store.Change, each in time then service order (at least one service
	// and one environment); ChangePromotions leaves out those a deployment
	// it would list shipped.
	ChangeDeployments(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error)
	ChangePromotions(ctx context.Context, services, environments []string, from, to time.Time) ([]store.Change, error)
	// ChangeDeploymentDays counts ChangeDeployments per service and day,
	// in no particular order.
	ChangeDeploymentDays(ctx context.Context, services, environments []string, from, to time.Time) ([]store.ChangeDay, error)
	CountServices(ctx context.Context) ([]store.TeamServiceCount, error)
	CountActiveServices(ctx context.Context, from, to time.Time) ([]store.ActiveServiceCount, error)

	// Exec runs one of the migration runner's statements, unprepared, so
	// that a migration may hold several.
	Exec(ctx context.Context, query string, args ...any) error
	// Query runs one of the migration runner's queries and calls each with
	// the Scan of every row it reads.
	Query(ctx context.Context, query string, each func(scan func(dest ...any) error) error) error
}

// DeploymentCount is what to add to the counts of a service's deployments
// to an environment on a day.
type DeploymentCount struct {
	Service, Environment string
	Day                  time.Time // UTC midnight
	Succeeded, Failed    int64
	IncidentCausing      int64
	LeadTimes            []byte // delivery.EncodeMicros of the lead times to add
}

// BilledRow is a service's billed cost of a resource in Month.
type BilledRow struct {
	Month string
	store.BilledResource
}

// IncidentToInfer is an incident whose charge by time may change.
type IncidentToInfer struct {
	ID           string
	OpenedAt     time.Time
	DeploymentID int64 // 0 when charged to none
}

// DeploymentCharge is a deployment as its day counts it: Caused is what
// its day counts, Charged whether an incident is charged to it now.
type DeploymentCharge struct {
	Environment     string
	Status          string
	FinishedAt      time.Time
	Caused, Charged bool
}

// MarkedDeployment is a deployment MarkIncidentCauses marked.
type MarkedDeployment struct {
	Environment string
	Status      string
	FinishedAt  time.Time
}
