package focus_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/server/cost/focus"
)

// benchFile is a FOCUS file of n daily rows over 30 services and 300
// resources, one in ten unmapped, with costs of ten fraction digits.
func benchFile(n int) []byte {
	var b bytes.Buffer
	b.WriteString("BillingAccountId,BillingPeriodStart,BillingPeriodEnd,BilledCost,EffectiveCost,ListCost,ContractedCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ChargeDescription,ResourceId,ResourceName,ServiceName,ServiceCategory,Region,SkuId,Tags\n")
	categories := []string{"Compute", "Databases", "Storage", "Networking"}
	services := []string{"Amazon EC2", "Amazon RDS", "Amazon S3", "Amazon VPC"}
	start := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		res := i % 300
		day := start.AddDate(0, 0, (i/300)%60)
		tags := fmt.Sprintf(`"{""app.kubernetes.io/name"":""service-%d"",""env"":""prod"",""team"":""team-%d""}"`, res%30, res%7)
		if i%10 == 0 {
			tags = `"{""env"":""prod""}"`
		}
		fmt.Fprintf(&b, "123456789012,2024-04-01T00:00:00Z,2024-05-01T00:00:00Z,%d.%010d,%d.%010d,%d.%06d,0,USD,%s,%s,Usage,Usage of resource %d,arn:aws:ec2:eu-west-1:123456789012:instance/i-%08x,res-%d,%s,%s,eu-west-1,SKU%d,%s\n",
			i%97, i*7919%10_000_000_000, i%89, i*104729%10_000_000_000, i%101, i%1_000_000,
			day.Format(time.RFC3339), day.AddDate(0, 0, 1).Format(time.RFC3339),
			res, res, res, services[res%4], categories[res%4], res%50, tags)
	}
	return b.Bytes()
}

func BenchmarkRead(b *testing.B) {
	const rows = 100_000
	file := benchFile(rows)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range focus.Read(bytes.NewReader(file), focus.Options{}) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(0, "ns/op") // per file: rows/s says more
}
