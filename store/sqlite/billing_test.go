package sqlite_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

// BenchmarkReplaceBilling imports 100,000 rows of one month per op, in a
// file that grows with every op, reporting rows/s.
func BenchmarkReplaceBilling(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "cairn.db"))
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	require.NoError(b, s.Migrate(b.Context()))
	const n = 100_000
	// The strings made once, so that the rows cost the import alone.
	services, resources := make([]string, 500), make([]string, 20_000)
	for i := range services {
		services[i] = fmt.Sprintf("service-%03d", i)
	}
	for i := range resources {
		resources[i] = fmt.Sprintf("arn:aws:ec2:eu-west-1:123456789012:instance/i-%08x", i)
	}
	month := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		rows := func(yield func(store.BillingRow, error) bool) {
			for i := range n {
				row := store.BillingRow{
					ChargePeriodStart: month.Add(time.Duration(i) * time.Second),
					ChargePeriodEnd:   month.Add(time.Duration(i+1) * time.Second),
					ChargeCategory:    "Usage",
					Service:           services[i%len(services)],
					ResourceID:        resources[i%len(resources)],
					ServiceName:       "Amazon Elastic Compute Cloud",
					ServiceCategory:   "Compute",
					Currency:          "EUR",
					BilledCost:        int64(i),
					EffectiveCost:     int64(i),
					ListCost:          int64(i),
				}
				if !yield(row, nil) {
					return
				}
			}
		}
		_, err := s.ReplaceBilling(b.Context(), "aws", rows)
		require.NoError(b, err)
		month = month.AddDate(0, 1, 0)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}
