package costbench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The shape of the benchmark's FOCUS file: a daily cost-and-usage export of
// focusResources resources over focusDays days, crossing a month boundary,
// so that the import replaces two months.
const (
	focusRows      = 1_000_000
	focusDays      = 50
	focusResources = focusRows / focusDays
	// Resources per service: focusResources / resourcesPerService services.
	resourcesPerService = 10
	// One resource in unmappedEvery carries no service tag.
	unmappedEvery = 10
)

// focusStart is the first day of the file.
var focusStart = time.Date(2031, 4, 1, 0, 0, 0, 0, time.UTC)

// writeFocusFile writes the benchmark's file into dir, a row per resource
// and day in date order, as cloud providers export them, with the columns
// of an AWS FOCUS 1.0 export that Cairn reads and some it ignores.
func writeFocusFile(tb testing.TB, dir string) string {
	tb.Helper()
	path := filepath.Join(dir, "focus.csv")
	f, err := os.Create(path)
	require.NoError(tb, err)
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "BillingAccountId,BillingPeriodStart,BillingPeriodEnd,BilledCost,EffectiveCost,ListCost,ContractedCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeDescription,ResourceId,ResourceName,ServiceName,ServiceCategory,RegionId,SkuId,Tags")
	providerServices := []struct{ name, category, arn string }{
		{"Amazon Elastic Compute Cloud", "Compute", "arn:aws:ec2:eu-west-1:123456789012:instance/i-%012x"},
		{"Amazon Relational Database Service", "Databases", "arn:aws:rds:eu-west-1:123456789012:db:db-%012x"},
		{"Amazon Simple Storage Service", "Storage", "arn:aws:s3:::bucket-%012x"},
		{"Amazon Virtual Private Cloud", "Networking", "arn:aws:ec2:eu-west-1:123456789012:natgateway/nat-%012x"},
	}
	for day := range focusDays {
		start := focusStart.AddDate(0, 0, day)
		periodStart := time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
		period := periodStart.Format(time.RFC3339) + "," + periodStart.AddDate(0, 1, 0).Format(time.RFC3339)
		charge := start.Format(time.RFC3339) + "," + start.AddDate(0, 0, 1).Format(time.RFC3339)
		for res := range focusResources {
			ps := providerServices[res%len(providerServices)]
			service := res / resourcesPerService
			tags := fmt.Sprintf(`"{""app.kubernetes.io/name"":""%s"",""team"":""team-%d"",""env"":""prod""}"`, serviceName(service), service%50)
			if res%unmappedEvery == 0 {
				tags = `"{""env"":""prod""}"`
			}
			i := day*focusResources + res
			cost := fmt.Sprintf("%d.%010d", i%97, i*7919%10_000_000_000)
			fmt.Fprintf(w, "123456789012,%s,%s,%s,%d.%06d,0,USD,%s,Usage,%s usage,%s,res-%d,%s,%s,eu-west-1,SKU%04d,%s\n",
				period, cost, cost, i%101, i%1_000_000, charge, ps.category, fmt.Sprintf(ps.arn, res), res,
				ps.name, ps.category, res%1000, tags)
		}
	}
	require.NoError(tb, w.Flush())
	return path
}

// serviceName is the name of the benchmark's i-th service.
func serviceName(i int) string { return fmt.Sprintf("service-%05d", i) }
