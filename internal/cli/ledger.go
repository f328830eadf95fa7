package cli

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
)

func costAnomalies() command {
	return command{
		name: "anomalies", args: "[--date YYYY-MM-DD]",
		summary: "list services whose billed cost of a day stands out against their own trailing 28 days",
		define: func(fs *flag.FlagSet) action {
			day := fs.String("date", "", "the `day` to score, YYYY-MM-DD; the last complete day (UTC) when empty")
			return func(ctx context.Context, c *client, _ []string) error {
				req := &cairnv1.ListDailyCostAnomaliesRequest{PageSize: 1000}
				if *day != "" {
					d, err := time.Parse(time.DateOnly, *day)
					if err != nil {
						return usageErrorf("--date must be YYYY-MM-DD, such as 2026-03-31")
					}
					req.Date = &date.Date{Year: int32(d.Year()), Month: int32(d.Month()), Day: int32(d.Day())}
				}
				ctx, cancel := c.call(ctx)
				defer cancel()
				costs := cairnv1.NewCostServiceClient(c.conn)
				all := &cairnv1.ListDailyCostAnomaliesResponse{}
				for {
					page, err := costs.ListDailyCostAnomalies(ctx, req)
					if err != nil {
						return err
					}
					all.Date, all.Currency, all.UnscoredServiceCount = page.GetDate(), page.GetCurrency(), page.GetUnscoredServiceCount()
					all.Anomalies = append(all.Anomalies, page.GetAnomalies()...)
					if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
						break
					}
				}
				return c.show(all, dailyAnomaliesText(all))
			}
		},
	}
}

func templateLedger() command {
	return command{
		name:    "ledger",
		summary: "show each golden-path template's ledger: delivery, billed cost, and estimates against billing",
		define: func(fs *flag.FlagSet) action {
			return func(ctx context.Context, c *client, _ []string) error {
				ctx, cancel := c.call(ctx)
				defer cancel()
				costs := cairnv1.NewCostServiceClient(c.conn)
				req := &cairnv1.ListTemplateLedgersRequest{PageSize: 1000}
				all := &cairnv1.ListTemplateLedgersResponse{}
				for {
					page, err := costs.ListTemplateLedgers(ctx, req)
					if err != nil {
						return err
					}
					all.Month, all.Currency = page.GetMonth(), page.GetCurrency()
					all.Ledgers = append(all.Ledgers, page.GetLedgers()...)
					if req.PageToken = page.GetNextPageToken(); req.PageToken == "" {
						break
					}
				}
				return c.show(all, ledgersText(all))
			}
		},
	}
}

func dayText(d *date.Date) string {
	return fmt.Sprintf("%04d-%02d-%02d", d.GetYear(), d.GetMonth(), d.GetDay())
}

func dailyAnomaliesText(r *cairnv1.ListDailyCostAnomaliesResponse) string {
	var b strings.Builder
	fmt.Fprintf(&b, "daily cost anomalies of %s (%s)\n", dayText(r.GetDate()), r.GetCurrency())
	if len(r.GetAnomalies()) == 0 {
		b.WriteString("no anomalies\n")
	} else {
		var rows [][]string
		for _, a := range r.GetAnomalies() {
			score := "flat baseline"
			if a.ModifiedZScore != nil {
				score = strconv.FormatFloat(a.GetModifiedZScore(), 'f', 1, 64)
			}
			rows = append(rows, []string{a.GetServiceName(), a.GetTeam(), money2(a.GetCost()), money2(a.GetBaselineMedian()),
				money2(a.GetBaselineMad()), score, strconv.Itoa(int(a.GetBaselineDayCount()))})
		}
		b.WriteString(table("SERVICE\tTEAM\tCOST\tMEDIAN\tMAD\tSCORE\tDAYS", rows))
	}
	if n := r.GetUnscoredServiceCount(); n > 0 {
		fmt.Fprintf(&b, "%d service(s) billed on the day have fewer than 14 days with billing before it: not scored\n", n)
	}
	return b.String()
}

func count(n int32) string { return strconv.Itoa(int(n)) }

func money2(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func ledgersText(r *cairnv1.ListTemplateLedgersResponse) string {
	if len(r.GetLedgers()) == 0 {
		return "no templates\n"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "template ledgers; costs of %s (%s)\n", r.GetMonth(), r.GetCurrency())
	var rows [][]string
	for _, l := range r.GetLedgers() {
		cost := ""
		if l.MedianMonthlyCost != nil {
			cost = money2(l.GetMedianMonthlyCost())
		}
		rows = append(rows, []string{l.GetTemplate(), strconv.Itoa(int(l.GetServiceCount())),
			sampled(duration(l.GetMedianTimeToFirstDeploy()), l.GetDeployedServiceCount()),
			sampled(duration(l.GetProvisioningP50()), l.GetReadyServiceCount()), duration(l.GetProvisioningP95()),
			sampled(cost, l.GetBilledServiceCount())})
	}
	b.WriteString(table("TEMPLATE\tSERVICES\tTO FIRST DEPLOY\tPROVISIONING P50\tP95\tMEDIAN MONTHLY COST", rows))
	var bands [][]string
	for _, l := range r.GetLedgers() {
		for _, d := range l.GetDoraBands() {
			bands = append(bands, []string{l.GetTemplate(), d.GetMetric(), count(d.GetElite()), count(d.GetHigh()),
				count(d.GetMedium()), count(d.GetLow()), count(d.GetUnmeasured())})
		}
	}
	if len(bands) > 0 {
		b.WriteString("\n" + table("TEMPLATE\tDORA METRIC\tELITE\tHIGH\tMEDIUM\tLOW\tUNMEASURED", bands))
	}
	var findings []string
	for _, l := range r.GetLedgers() {
		for _, e := range l.GetEstimateErrors() {
			findings = append(findings, l.GetTemplate()+": "+estimateFinding(e))
		}
	}
	if len(findings) > 0 {
		b.WriteString("\n" + strings.Join(findings, "\n") + "\n")
	}
	return b.String()
}

// sampled is a figure with the number of services it is the median of, or
// "-" when there are none.
func sampled(figure string, n int32) string {
	if n == 0 || figure == "" || figure == "-" {
		return "-"
	}
	return fmt.Sprintf("%s (%d)", figure, n)
}

// estimateFinding says in a sentence how far a resource type's estimates
// were from billing, such as "database estimates are 17% under billed:
// factor 1.20 (2 services)".
func estimateFinding(e *cairnv1.EstimateError) string {
	services := fmt.Sprintf("(%d service(s), %s estimated, %s billed)", e.GetServiceCount(), money2(e.GetEstimatedCost()), money2(e.GetBilledCost()))
	if e.ErrorPercent == nil {
		return fmt.Sprintf("%s: nothing billed to compare estimates with %s", e.GetResourceType(), services)
	}
	direction := "over"
	if e.GetErrorPercent() < 0 {
		direction = "under"
	}
	factor := "no factor: estimated at zero"
	if e.Factor != nil {
		factor = "factor " + strconv.FormatFloat(e.GetFactor(), 'f', 2, 64)
	}
	return fmt.Sprintf("%s estimates are %.0f%% %s billed: %s %s",
		e.GetResourceType(), math.Abs(e.GetErrorPercent()), direction, factor, services)
}
