package loadtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// BillingSource is the FOCUS source the seeded billing is imported from.
const BillingSource = "load-aws-cur"

// Seed writes fleet into Cairn through its API, with workers calls at
// once: each service registered in the catalog, or created with its
// infrastructure when provisioned; then two months of billing (the month
// before now and this month to date) imported as one FOCUS file; then each
// service's deployments and incidents. Then it waits until the reconciler
// has applied every provisioned service's objects. Every step is
// idempotent, so a seed interrupted or run twice leaves the same fleet.
// Transient failures are retried.
func Seed(ctx context.Context, client Client, fleet Fleet, workers int, now time.Time, logger *slog.Logger) error {
	start := time.Now()
	err := forEach(ctx, fleet.Services, workers, func(ctx context.Context, i int) error {
		if fleet.Provisioned(i) {
			return retry(ctx, func() error { return client.Create(ctx, CreateRequest(fleet.Name(i), fleet.Team(i))) })
		}
		return retry(ctx, func() error { return client.Register(ctx, fleet.registration(i)) })
	})
	if err != nil {
		return fmt.Errorf("seeding the catalog: %w", err)
	}
	logger.Info("seeded the catalog", "services", fleet.Services, "provisioned", fleet.ProvisionedCount(), "took", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	rows, err := importBilling(ctx, client, fleet, now)
	if err != nil {
		return fmt.Errorf("importing billing: %w", err)
	}
	logger.Info("imported billing", "rows", rows, "took", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	var deployments, incidents atomic.Int64
	err = forEach(ctx, fleet.Services, workers, func(ctx context.Context, i int) error {
		for _, d := range fleet.deployments(i, now) {
			if err := retry(ctx, func() error { _, err := client.Deploy(ctx, d); return err }); err != nil {
				return err
			}
			deployments.Add(1)
		}
		if inc, ok := fleet.incident(i, now); ok {
			if err := retry(ctx, func() error { return client.RecordIncident(ctx, inc) }); err != nil {
				return err
			}
			incidents.Add(1)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording deployments: %w", err)
	}
	logger.Info("recorded deployments", "deployments", deployments.Load(), "incidents", incidents.Load(), "took", time.Since(start).Round(time.Millisecond))

	start = time.Now()
	if err := waitApplied(ctx, client, fleet); err != nil {
		return err
	}
	logger.Info("the cluster holds the provisioned services' objects", "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// appliedTimeout bounds the wait for the reconciler to apply the
// provisioned services.
const appliedTimeout = 15 * time.Minute

// waitApplied waits until every provisioned service's status shows its two
// Applications and two claims: the reconciler has applied them, and the
// status reads of a load read what they would in production.
func waitApplied(ctx context.Context, client Client, fleet Fleet) error {
	ctx, cancel := context.WithTimeout(ctx, appliedTimeout)
	defer cancel()
	for k := 0; k < fleet.ProvisionedCount(); {
		name := fleet.Name(fleet.ProvisionedIndex(k))
		n, err := client.AppliedObjects(ctx, name)
		switch {
		case err != nil && !Retryable(err):
			return fmt.Errorf("status of %s: %w", name, err)
		case err == nil && n == 4:
			k++
			continue
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s's objects on the cluster: %w", name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return nil
}

// forEach calls f for 0 to n-1, workers at a time, and stops at the first
// error.
func forEach(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range max(workers, 1) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// retry calls f until it succeeds, fails for good, or ctx ends, waiting
// longer after each transient failure (up to 2 s).
func retry(ctx context.Context, f func() error) error {
	wait := 50 * time.Millisecond
	for {
		err := f()
		if err == nil || !Retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// importBilling streams the fleet's billing, generated as it is sent,
// into ImportFocus, and returns how many rows it sent.
func importBilling(ctx context.Context, client Client, fleet Fleet, now time.Time) (int, error) {
	pr, pw := io.Pipe()
	var rows int
	var wg sync.WaitGroup
	wg.Go(func() {
		var err error
		rows, err = writeFocus(pw, fleet, now)
		pw.CloseWithError(err)
	})
	err := client.ImportFocus(ctx, BillingSource, pr)
	pr.CloseWithError(io.ErrClosedPipe) // stops the writer if the import ended early
	wg.Wait()
	return rows, err
}

// writeFocus writes the billed services' daily charges from the first of
// the month before now to yesterday as a FOCUS 1.0 CSV file, with the
// columns Cairn reads; each row names its service by the
// app.kubernetes.io/name tag.
func writeFocus(w io.Writer, fleet Fleet, now time.Time) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	fmt.Fprintln(bw, "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags")
	categories := [resourcesPerBilledService]struct{ service, category, arn string }{
		{"Amazon Elastic Compute Cloud", "Compute", "arn:aws:ec2:eu-west-1:123456789012:instance/%s"},
		{"Amazon Relational Database Service", "Databases", "arn:aws:rds:eu-west-1:123456789012:db:%s-db"},
		{"Amazon Simple Storage Service", "Storage", "arn:aws:s3:::%s-bucket"},
	}
	today := now.UTC().Truncate(24 * time.Hour)
	first := time.Date(today.Year(), today.Month()-1, 1, 0, 0, 0, 0, time.UTC)
	rows := 0
	for day := first; day.Before(today); day = day.AddDate(0, 0, 1) {
		period := day.Format(time.RFC3339) + "," + day.AddDate(0, 0, 1).Format(time.RFC3339)
		for i := range fleet.Services {
			if !fleet.Billed(i) {
				continue
			}
			name := fleet.Name(i)
			for r, c := range categories {
				// A few dollars a day, different per service, resource and day.
				cents := 100 + (i*37+r*101+day.Day()*13)%900
				fmt.Fprintf(bw, "%d.%02d,%d.%02d,%d.%02d,USD,%s,Usage,%s,%s,%s,\"{\"\"app.kubernetes.io/name\"\":\"\"%s\"\"}\"\n",
					cents/100, cents%100, cents*9/1000, cents*9/10%100, cents*12/1000, cents*12/10%100,
					period, fmt.Sprintf(c.arn, name), c.service, c.category, name)
				rows++
			}
		}
	}
	return rows, bw.Flush()
}
