package cost

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/pagetoken"
	"github.com/cairn-dev/cairn/store"
)

// The template ledger lives in the cost service because most of it is
// cost: the price table, the billing and the estimates are here; the
// delivery figures come from the store's first deployments.

// DoraBands is where ledgers read a service's DORA performance bands.
type DoraBands interface {
	// ServiceBands are the service's bands over the default DORA window;
	// store.ErrNotFound for a service not in the catalog.
	ServiceBands(ctx context.Context, service string) (ServiceBands, error)
}

// ServiceBands are a service's DORA 2023 performance band per metric
// (elite, high, medium or low), "" for a metric with nothing to measure.
type ServiceBands struct {
	DeploymentFrequency, LeadTimeForChanges, ChangeFailureRate, TimeToRestore string
}

// doraMetrics name the metrics of ServiceBands as ledgers report them.
var doraMetrics = []struct {
	name string
	band func(ServiceBands) string
}{
	{"deployment_frequency", func(b ServiceBands) string { return b.DeploymentFrequency }},
	{"lead_time_for_changes", func(b ServiceBands) string { return b.LeadTimeForChanges }},
	{"change_failure_rate", func(b ServiceBands) string { return b.ChangeFailureRate }},
	{"time_to_restore", func(b ServiceBands) string { return b.TimeToRestore }},
}

// UseDora makes ledgers spread their services over the DORA bands d
// reads; without it they report no spread.
func (s *Server) UseDora(d DoraBands) { s.dora = d }

// ledgerAccount gathers one template's figures as its services are read.
type ledgerAccount struct {
	services      int32
	bands         []ServiceBands // one per service, when DORA is read
	toFirstDeploy []time.Duration
	toReady       []time.Duration
	billed        []float64 // each billed service's total of the month, in units
	byType        map[string]*typeAccount
}

// typeAccount is the estimated and billed cost of one resource type over
// the services that had both.
type typeAccount struct {
	estimated, billed money.Sum
	services          int32
}

// ListTemplateLedgers implements CostService: one ledger per template the
// provisionings name, in template name order. A provisioning that named
// no template is in none.
func (s *Server) ListTemplateLedgers(ctx context.Context, req *cairnv1.ListTemplateLedgersRequest) (*cairnv1.ListTemplateLedgersResponse, error) {
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, time.UTC) // the last complete month
	month := start.Format(monthLayout)
	query := "ledgers|" + month
	skip, err := pagetoken.DecodeInt(req.GetPageToken(), query)
	if err != nil {
		return nil, apierr.Invalid(apierr.FieldViolation{Field: "page_token", Description: err.Error()})
	}
	firsts, err := s.store.FirstDeployments(ctx, time.Unix(0, 0).UTC(), now.Add(time.Second))
	if err != nil {
		return nil, err
	}
	firstDeployed := make(map[string]time.Time, len(firsts))
	for _, f := range firsts {
		firstDeployed[f.Service] = f.FirstDeployedAt
	}
	accounts := map[string]*ledgerAccount{}
	for after := ""; ; {
		provs, err := s.store.ListProvisionings(ctx, after, servicePage)
		if err != nil {
			return nil, err
		}
		for _, p := range provs {
			if p.Spec.Template == "" {
				continue
			}
			acc := accounts[p.Spec.Template]
			if acc == nil {
				acc = &ledgerAccount{byType: map[string]*typeAccount{}}
				accounts[p.Spec.Template] = acc
			}
			if err := s.account(ctx, acc, p, firstDeployed[p.Service], start, month); err != nil {
				return nil, err
			}
		}
		if len(provs) < servicePage {
			break
		}
		after = provs[len(provs)-1].Service
	}
	templates := sortedKeys(accounts)
	ledgers := make([]*cairnv1.TemplateLedger, 0, len(templates))
	for _, template := range templates {
		ledgers = append(ledgers, accounts[template].ledger(template))
	}
	page, next := offsetPage(ledgers, skip, req.GetPageSize(), query)
	return &cairnv1.ListTemplateLedgersResponse{Ledgers: page, Month: month, Currency: s.config.Currency, NextPageToken: next}, nil
}

// account adds one provisioning to its template's figures. Its estimate
// is compared with its billing of the month only if it was provisioned
// before the month began: a month billed in part would make any full-month
// estimate look too high.
func (s *Server) account(ctx context.Context, acc *ledgerAccount, p store.Provisioning, firstDeployed, start time.Time, month string) error {
	acc.services++
	if s.dora != nil {
		bands, err := s.dora.ServiceBands(ctx, p.Service)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Gone from the catalog: counted as unmeasured in every metric.
		case err != nil:
			return err
		}
		acc.bands = append(acc.bands, bands)
	}
	if !firstDeployed.IsZero() && !firstDeployed.Before(p.CreateTime) {
		acc.toFirstDeploy = append(acc.toFirstDeploy, firstDeployed.Sub(p.CreateTime))
	}
	if !p.ReadyTime.IsZero() {
		acc.toReady = append(acc.toReady, p.ReadyTime.Sub(p.CreateTime))
	}
	billing, err := s.store.ServiceBilling(ctx, p.Service, month)
	if err != nil {
		return err
	}
	billed := s.billedLines(billing[month])
	if billed == nil {
		return nil
	}
	acc.billed = append(acc.billed, units(Sum(billed)))
	if !p.CreateTime.Before(start) {
		return nil
	}
	billedByType := sumsByType(billed)
	for resourceType, estimated := range sumsByType(s.config.Prices.Estimate(p.Service, p.Spec, s.settings)) {
		b, ok := billedByType[resourceType]
		if !ok {
			continue
		}
		t := acc.byType[resourceType]
		if t == nil {
			t = &typeAccount{}
			acc.byType[resourceType] = t
		}
		t.estimated, t.billed, t.services = t.estimated.Add(estimated), t.billed.Add(b), t.services+1
	}
	return nil
}

// sumsByType sums lines per resource type.
func sumsByType(lines []Line) map[string]money.Sum {
	sums := map[string]money.Sum{}
	for _, l := range lines {
		sums[l.Type] = sums[l.Type].Add(l.MonthlyCost)
	}
	return sums
}

// ledger is the account's figures; those without data are left absent.
func (acc *ledgerAccount) ledger(template string) *cairnv1.TemplateLedger {
	l := &cairnv1.TemplateLedger{
		Template: template, ServiceCount: acc.services,
		DeployedServiceCount: int32(len(acc.toFirstDeploy)), ReadyServiceCount: int32(len(acc.toReady)),
		BilledServiceCount: int32(len(acc.billed)), EstimateErrors: []*cairnv1.EstimateError{},
	}
	if len(acc.toFirstDeploy) > 0 {
		l.MedianTimeToFirstDeploy = durationpb.New(medianDuration(acc.toFirstDeploy))
	}
	if len(acc.toReady) > 0 {
		l.ProvisioningP50 = durationpb.New(medianDuration(acc.toReady))
		l.ProvisioningP95 = durationpb.New(nearestRank(acc.toReady, 95))
	}
	if len(acc.billed) > 0 {
		median := medianOf(acc.billed)
		l.MedianMonthlyCost = &median
	}
	for _, resourceType := range sortedKeys(acc.byType) {
		l.EstimateErrors = append(l.EstimateErrors, acc.byType[resourceType].estimateError(resourceType))
	}
	if len(acc.bands) > 0 {
		for _, m := range doraMetrics {
			l.DoraBands = append(l.DoraBands, spreadOf(m.name, acc.bands, m.band))
		}
	}
	return l
}

// spreadOf counts the services in each band of one metric.
func spreadOf(metric string, bands []ServiceBands, band func(ServiceBands) string) *cairnv1.DoraBandSpread {
	spread := &cairnv1.DoraBandSpread{Metric: metric}
	for _, b := range bands {
		switch band(b) {
		case "elite":
			spread.Elite++
		case "high":
			spread.High++
		case "medium":
			spread.Medium++
		case "low":
			spread.Low++
		default:
			spread.Unmeasured++
		}
	}
	return spread
}

// estimateError compares the type's estimates with its billing.
func (t *typeAccount) estimateError(resourceType string) *cairnv1.EstimateError {
	e := &cairnv1.EstimateError{
		ResourceType: resourceType, EstimatedCost: units(t.estimated), BilledCost: units(t.billed), ServiceCount: t.services,
	}
	estimated, billed := t.estimated.Float64(), t.billed.Float64()
	if billed != 0 {
		errorPercent := (estimated - billed) * 100 / billed
		e.ErrorPercent = &errorPercent
	}
	if estimated != 0 {
		factor := billed / estimated
		e.Factor = &factor
	}
	return e
}

// medianDuration is the middle duration, the mean of the two middle ones
// for an even count; ds must not be empty.
func medianDuration(ds []time.Duration) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return sorted[n/2-1] + (sorted[n/2]-sorted[n/2-1])/2
}

// nearestRank is the smallest duration with at least percent of ds at or
// below it; ds must not be empty.
func nearestRank(ds []time.Duration, percent float64) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(percent / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}
