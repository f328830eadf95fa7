package loadtest

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

// Fleet is the catalog a load run seeds and reads. Everything about a
// service follows from its number, so that seeding, loading and checking
// agree without sharing state: by its number modulo 10, service 0 is
// provisioned (a PostgreSQL database, a bucket, staging and production),
// 1 to 4 have imported billing, and 5 to 9 are catalog entries only. Every
// service has deployments over the last DeploymentDays days, and one in
// IncidentEvery has a resolved incident.
type Fleet struct {
	// Services is how many services the fleet has.
	Services int
	// Prefix starts every service's name: {Prefix}-{number, 5 digits}.
	Prefix string
	// Teams is how many teams own them, team-00 to team-{Teams-1}; each needs
	// a namespace on the cluster for the provisioned services' claims.
	Teams int
	// DeploymentsPerService is how many deployments each service reports.
	DeploymentsPerService int
}

const (
	// DeploymentDays is how far back the seeded deployments go: a 30-day
	// DORA window and the 30 days before it, for the trend.
	DeploymentDays = 60
	// IncidentEvery is how many services share one seeded incident.
	IncidentEvery = 20
	// resourcesPerBilledService is how many billed resources a billed
	// service has: compute, a database and storage.
	resourcesPerBilledService = 3
)

// DefaultFleet is the fleet the benchmarks use: 10,000 services in 20 teams.
var DefaultFleet = Fleet{Services: 10_000, Prefix: "load", Teams: 20, DeploymentsPerService: 6}

// Name is the name of service i.
func (f Fleet) Name(i int) string { return fmt.Sprintf("%s-%05d", f.Prefix, i) }

// Team is the team owning service i.
func (f Fleet) Team(i int) string { return TeamName(i % f.Teams) }

// TeamName is the name of team t.
func TeamName(t int) string { return fmt.Sprintf("team-%02d", t) }

// Provisioned says whether service i was created with infrastructure, and
// so has a status to read.
func (f Fleet) Provisioned(i int) bool { return i%10 == 0 }

// Billed says whether service i has imported billing.
func (f Fleet) Billed(i int) bool { return i%10 >= 1 && i%10 <= 4 }

// ProvisionedCount is how many services are provisioned; the k-th of them
// is ProvisionedIndex(k).
func (f Fleet) ProvisionedCount() int { return (f.Services + 9) / 10 }

// ProvisionedIndex is the number of the k-th provisioned service.
func (f Fleet) ProvisionedIndex(k int) int { return k * 10 }

// registration is the catalog entry of service i, as Backstage would
// register it.
func (f Fleet) registration(i int) *cairnv1.RegisterServiceRequest {
	return &cairnv1.RegisterServiceRequest{Source: &cairnv1.RegisterServiceRequest_Service{Service: &cairnv1.Service{
		Name:        "services/" + f.Name(i),
		Title:       fmt.Sprintf("Load service %d", i),
		Description: "A service of the load test's fleet.",
		Type:        "service",
		Lifecycle:   "production",
		Owner:       "group:default/" + f.Team(i),
		System:      fmt.Sprintf("system-%03d", i%200),
		Tags:        []string{"load", "go"},
		Annotations: map[string]string{"github.com/project-slug": "company/" + f.Name(i)},
	}}}
}

// CreateRequest is the create of a service with a PostgreSQL database, a
// bucket, staging and production, as the Backstage scaffolder sends it;
// request_id makes a retry return what the first call recorded.
func CreateRequest(name, team string) *cairnv1.CreateServiceRequest {
	return &cairnv1.CreateServiceRequest{
		Name:          name,
		Owner:         "group:default/" + team,
		Template:      "node-microservice",
		Database:      "postgresql",
		DatabaseSize:  "small",
		Bucket:        true,
		Environments:  []string{"staging", "production"},
		RepositoryUrl: "https://github.com/company/" + name + ".git",
		RequestId:     "create-" + name,
	}
}

// deployments are the deployments service i reports, finished between now
// and DeploymentDays ago: production and staging in turn, one in nine
// failed, each shipping one to three commits.
func (f Fleet) deployments(i int, now time.Time) []*cairnv1.RecordDeploymentRequest {
	out := make([]*cairnv1.RecordDeploymentRequest, 0, f.DeploymentsPerService)
	for d := range f.DeploymentsPerService {
		environment := "production"
		if d%2 == 1 {
			environment = "staging"
		}
		status := "succeeded"
		if (i+d)%9 == 0 {
			status = "failed"
		}
		daysAgo := (i*7+d*11)%(DeploymentDays-1) + 1
		started := now.Add(-time.Duration(daysAgo)*24*time.Hour - time.Duration(i%1440)*time.Minute).Truncate(time.Second)
		finished := started.Add(time.Duration(5+i%10) * time.Minute)
		req := &cairnv1.RecordDeploymentRequest{
			Service:     f.Name(i),
			Environment: environment,
			Revision:    fmt.Sprintf("v1.%d.%d", d, i%100),
			Status:      status,
			StartedAt:   timestamppb.New(started),
			FinishedAt:  timestamppb.New(finished),
		}
		for c := range 1 + (i+d)%3 {
			req.Commits = append(req.Commits, &cairnv1.Commit{
				Sha:         fmt.Sprintf("%08x%02x%02x", i, d, c),
				CommittedAt: timestamppb.New(started.Add(-time.Duration(1+(i+c)%48) * time.Hour)),
			})
		}
		out = append(out, req)
	}
	return out
}

// incident is service i's resolved incident, caused by its first
// production deployment, when it has one.
func (f Fleet) incident(i int, now time.Time) (*cairnv1.RecordIncidentRequest, bool) {
	if i%IncidentEvery != 0 || f.DeploymentsPerService == 0 {
		return nil, false
	}
	first := f.deployments(i, now)[0]
	opened := first.GetFinishedAt().AsTime().Add(30 * time.Minute)
	return &cairnv1.RecordIncidentRequest{
		Id:            fmt.Sprintf("INC-%s", f.Name(i)),
		Service:       f.Name(i),
		OpenedAt:      timestamppb.New(opened),
		ResolvedAt:    timestamppb.New(opened.Add(time.Duration(1+i%5) * time.Hour)),
		CauseRevision: first.GetRevision(),
	}, true
}

// NewServiceName is the name of the n-th service a load run creates: run
// keeps runs apart, and no seeded service has such a name.
func (f Fleet) NewServiceName(run string, n int) string {
	return fmt.Sprintf("%s-%s-%06d", f.Prefix, run, n)
}
