package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// focusRow is one charge of the test's billing file; cents keep the
// expected sums exact and independent of Cairn's arithmetic.
type focusRow struct {
	month, service, resource, category string
	cents                              int64
}

// focusFile renders rows as a FOCUS CSV file, columns in FOCUS's order,
// with one extra column Cairn ignores.
func focusFile(rows []focusRow) string {
	var b strings.Builder
	b.WriteString("BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags,RegionId\n")
	for _, r := range rows {
		tags := `"{}"`
		if r.service != "" {
			tags = fmt.Sprintf(`"{""app.kubernetes.io/name"":""%s"",""team"":""x""}"`, r.service)
		}
		cost := fmt.Sprintf("%d.%02d", r.cents/100, r.cents%100)
		fmt.Fprintf(&b, "%s,%s,%s,USD,%s-03T00:00:00Z,%s-04T00:00:00Z,Usage,%s,Amazon RDS,%s,%s,us-east-1\n",
			cost, cost, cost, r.month, r.month, r.resource, r.category, tags)
	}
	return b.String()
}

func (p *cairnProcess) importFocus(t *testing.T, source, csv string) restResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.httpAddr+"/v1/costs:importFocus?source="+source, strings.NewReader(csv))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	require.NoError(t, err)
	return decodeResponse(resp.StatusCode, buf.Bytes())
}

func TestFocusImportFeedsTheCostCard(t *testing.T) {
	p := startCairn(t, engines[0].storeURL(t))
	for _, name := range []string{"orders-service", "payments-api", "search-api"} {
		r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(fmt.Sprintf(
			`{"service": {"name": "services/%s", "type": "service", "lifecycle": "production", "owner": "team-x"}}`, name)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	rows := []focusRow{
		{"2026-10", "orders-service", "arn:aws:rds:orders-db", "Databases", 10000},
		{"2026-10", "orders-service", "arn:aws:s3:::orders-bucket", "Storage", 250},
		{"2026-10", "payments-api", "arn:aws:rds:payments-db", "Databases", 20000},
		{"2026-10", "search-api", "i-0search", "Compute", 5000},
		{"2026-10", "", "arn:aws:ec2:nat-gateway", "Networking", 3210},
		{"2026-11", "orders-service", "arn:aws:rds:orders-db", "Databases", 6000},
		{"2026-11", "orders-service", "arn:aws:rds:orders-db", "Databases", 6000},
		{"2026-11", "orders-service", "arn:aws:s3:::orders-bucket", "Storage", 250},
		{"2026-11", "payments-api", "arn:aws:rds:payments-db", "Databases", 15000},
		{"2026-11", "search-api", "i-0search", "Compute", 5020},
		{"2026-11", "", "arn:aws:ec2:nat-gateway", "Networking", 3000},
	}
	csv := focusFile(rows)

	// What the cost card should say, worked out from the rows.
	expected := func(service, month string) (total int64, perResource map[string]int64) {
		perResource = map[string]int64{}
		for _, r := range rows {
			if r.service == service && r.month == month {
				total += r.cents
				perResource[r.resource] += r.cents
			}
		}
		return total, perResource
	}
	trendOf := func(now, before int64) string {
		switch {
		case now*100 > before*101:
			return "up"
		case now*100 < before*99:
			return "down"
		}
		return "stable"
	}
	requireCard := func(t *testing.T, service string) {
		t.Helper()
		r := p.rest(t, "GET", "/v1/services/"+service+"/cost?month=2026-11", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		total, lines := expected(service, "2026-11")
		previous, before := expected(service, "2026-10")
		require.InDelta(t, float64(total)/100, r.body["totalMonthlyCost"], 1e-9)
		require.InDelta(t, float64(previous)/100, r.body["previousMonthlyCost"], 1e-9)
		require.Equal(t, "USD", r.body["currency"])
		require.Equal(t, "2026-11", r.body["month"])
		breakdown := r.body["breakdown"].([]any)
		require.Len(t, breakdown, len(lines))
		resources := make([]string, 0, len(lines))
		for resource := range lines {
			resources = append(resources, resource)
		}
		sort.Strings(resources)
		for i, resource := range resources {
			line := breakdown[i].(map[string]any)
			require.Equal(t, resource, line["resource"])
			require.InDelta(t, float64(lines[resource])/100, line["monthlyCost"], 1e-9)
			require.Equal(t, trendOf(lines[resource], before[resource]), line["trend"], resource)
			require.Equal(t, "billed", line["source"])
		}
	}

	r := p.importFocus(t, "aws-cur", csv)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	require.Equal(t, float64(len(rows)), asNumber(r.body["rowCount"]))
	require.Equal(t, float64(2), asNumber(r.body["unmappedRowCount"]))
	require.InDelta(t, 62.10, r.body["unmappedCost"], 1e-9)
	for _, service := range []string{"orders-service", "payments-api", "search-api"} {
		requireCard(t, service)
	}
	orders := p.rest(t, "GET", "/v1/services/orders-service/cost?month=2026-11", nil)
	require.Equal(t, []any{"up", "stable"}, []any{
		orders.body["breakdown"].([]any)[0].(map[string]any)["trend"],
		orders.body["breakdown"].([]any)[1].(map[string]any)["trend"],
	}, "the database grew from 100.00 to 120.00; the bucket stayed")

	t.Run("TeamShowbackSumsTheTeamsServices", func(t *testing.T) {
		r := p.rest(t, "GET", "/v1/teams/team-x/cost?month=2026-11", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		var total, previous int64
		for _, service := range []string{"orders-service", "payments-api", "search-api"} {
			now, _ := expected(service, "2026-11")
			before, _ := expected(service, "2026-10")
			total, previous = total+now, previous+before
		}
		require.InDelta(t, float64(total)/100, r.body["totalMonthlyCost"], 1e-9)
		require.InDelta(t, float64(previous)/100, r.body["previousMonthlyCost"], 1e-9)
		services := r.body["services"].([]any)
		require.Len(t, services, 3)
		require.Equal(t, "payments-api", services[1].(map[string]any)["serviceName"])
		require.Equal(t, "down", services[1].(map[string]any)["trend"])
	})

	t.Run("AnomaliesAreTheServicesGrowingPastTheThreshold", func(t *testing.T) {
		r := p.rest(t, "GET", "/v1/costAnomalies?month=2026-11", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		anomalies := r.body["anomalies"].([]any)
		require.Len(t, anomalies, 1, "orders-service grew 19.5%%; payments-api fell; search-api grew 0.4%%")
		orders := anomalies[0].(map[string]any)
		require.Equal(t, "orders-service", orders["serviceName"])
		require.InDelta(t, (12250.0-10250.0)*100/10250.0, orders["growthPercent"], 1e-9)
		r = p.rest(t, "GET", "/v1/costAnomalies?month=2026-11&thresholdPercent=25", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Empty(t, r.body["anomalies"])
	})

	t.Run("ReimportingReplacesAndNeverDoubles", func(t *testing.T) {
		r := p.importFocus(t, "aws-cur", csv)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		requireCard(t, "orders-service")
	})

	t.Run("AMalformedRowRejectsTheWholeFileWithItsRowNumber", func(t *testing.T) {
		lines := strings.Split(csv, "\n")
		lines[4] = strings.Replace(lines[4], "2026-10-03T00:00:00Z", "yesterday", 1) // line 5 of the file
		r := p.importFocus(t, "aws-cur", strings.Join(lines, "\n"))
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Contains(t, r.body["message"], "row 5")
		requireCard(t, "orders-service") // earlier data intact
	})

	t.Run("TheCommandImportsAFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "focus.csv")
		require.NoError(t, os.WriteFile(path, []byte(csv), 0o600))
		cmd := exec.Command(cairnBinary, "cost", "import", path, "--source", "aws-cur", "--server", p.grpcAddr)
		cmd.Env = append(os.Environ(), "CAIRN_TOKEN="+adminToken)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		require.Contains(t, string(out), fmt.Sprintf("imported %d rows", len(rows)))
		requireCard(t, "orders-service")
	})
}

// asNumber reads a JSON number, which protojson writes for int64 as a
// string.
func asNumber(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		var f float64
		fmt.Sscan(n, &f)
		return f
	}
	return -1
}

// hostileRow is a FOCUS row of month (YYYY-MM) for service, its three
// costs written as cost, in currency.
func hostileRow(month, service, resource, currency, cost string) string {
	return fmt.Sprintf(`%s,%s,%s,%s,%s-03T00:00:00Z,%s-04T00:00:00Z,Usage,%s,Amazon RDS,Databases,"{""app.kubernetes.io/name"":""%s""}"`+"\n",
		cost, cost, cost, currency, month, month, resource, service)
}

const hostileHeader = "BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags\n"

// importFocusFrom posts body to the import as an admin; it reports an
// error the client met sending the body rather than failing.
func (p *cairnProcess) importFocusFrom(t *testing.T, source string, body io.Reader) (restResponse, error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.httpAddr+"/v1/costs:importFocus?source="+source, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return restResponse{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return decodeResponse(resp.StatusCode, raw), nil
}

// endless is an endless stream of one byte, made as it is read, counting
// what was read.
type endless struct {
	b byte
	n atomic.Int64
}

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = e.b
	}
	e.n.Add(int64(len(p)))
	return len(p), nil
}

// TestHostileBillingFilesNeitherOverflowNorMixCurrencies imports, as an
// admin could, files whose sums pass int64, files in other currencies and
// a file of one huge field, on each engine.
func TestHostileBillingFilesNeitherOverflowNorMixCurrencies(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) { testHostileBillingFiles(t, engine.storeURL(t)) })
	}
}

func testHostileBillingFiles(t *testing.T, storeURL string) {
	p := startCairn(t, storeURL)
	for _, name := range []string{"orders-service", "cart-service", "search-api"} {
		r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(fmt.Sprintf(
			`{"service": {"name": "services/%s", "type": "service", "lifecycle": "production", "owner": "team-x"}}`, name)))
		require.Equal(t, http.StatusOK, r.status, r.raw)
	}
	now := time.Now().UTC()
	month, before := now.Format("2006-01"), now.AddDate(0, -1, 0).Format("2006-01")
	// The largest amount a row may have, in units; a few of them pass
	// int64's micro-units.
	const most = "9223372036854"
	const unit = 9_223_372_036_854.0

	r := p.importFocus(t, "aws", hostileHeader+
		hostileRow(before, "orders-service", "orders-db", "USD", "1")+
		hostileRow(month, "orders-service", "orders-db", "USD", most)+
		hostileRow(month, "orders-service", "orders-db", "USD", most)+
		hostileRow(month, "cart-service", "cart-db", "USD", most))
	require.Equal(t, http.StatusOK, r.status, r.raw)

	// What the team's other services add, once search-api is billed.
	var extra float64
	requireCosts := func(t *testing.T) {
		t.Helper()
		card := p.rest(t, "GET", "/v1/services/orders-service/cost?month="+month, nil)
		require.Equal(t, http.StatusOK, card.status, card.raw)
		require.InEpsilon(t, 2*unit, card.body["totalMonthlyCost"], 1e-12)
		require.Equal(t, "USD", card.body["currency"])
		require.Len(t, card.body["breakdown"], 1)

		team := p.rest(t, "GET", "/v1/teams/team-x/cost?month="+month, nil)
		require.Equal(t, http.StatusOK, team.status, team.raw)
		require.InEpsilon(t, 3*unit+extra, team.body["totalMonthlyCost"], 1e-12)

		daily := p.rest(t, "GET", fmt.Sprintf("/v1/teams/team-x/dailyCost?startDate.year=%d&startDate.month=%d&startDate.day=3&endDate.year=%d&endDate.month=%d&endDate.day=3",
			now.Year(), now.Month(), now.Year(), now.Month()), nil)
		require.Equal(t, http.StatusOK, daily.status, daily.raw)
		require.InEpsilon(t, 3*unit+extra, daily.body["days"].([]any)[0].(map[string]any)["cost"], 1e-12)

		anomalies := p.rest(t, "GET", "/v1/costAnomalies?month="+month, nil)
		require.Equal(t, http.StatusOK, anomalies.status, anomalies.raw)
		require.Len(t, anomalies.body["anomalies"], 1)
		require.Equal(t, "orders-service", anomalies.body["anomalies"].([]any)[0].(map[string]any)["serviceName"])
	}

	t.Run("SumsPastInt64AreReportedNotRefusedWith500", func(t *testing.T) {
		requireCosts(t)
		budget := p.rest(t, "PATCH", "/v1/teams/team-x/budget", strings.NewReader(`{"monthlyAmount": 5000}`))
		require.Equal(t, http.StatusOK, budget.status, budget.raw)
		require.InEpsilon(t, 3*unit, budget.body["spent"], 1e-12)
		require.InEpsilon(t, 3*unit*100/5000, budget.body["burnPercent"], 1e-12)
		budget = p.rest(t, "GET", "/v1/teams/team-x/budget", nil)
		require.Equal(t, http.StatusOK, budget.status, budget.raw)
		require.InEpsilon(t, 3*unit, budget.body["spent"], 1e-12)
	})

	t.Run("FilesInAnotherCurrencyAreRefusedNamingTheRow", func(t *testing.T) {
		r := p.importFocus(t, "usd", hostileHeader+hostileRow(month, "search-api", "search-db", "USD", "100"))
		require.Equal(t, http.StatusOK, r.status, r.raw)
		extra = 100
		for _, currency := range []string{"EUR", "JPY"} {
			r := p.importFocus(t, strings.ToLower(currency), hostileHeader+hostileRow(month, "search-api", "search-db", currency, "100"))
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)
			require.Contains(t, r.body["message"], "row 2, BillingCurrency: currency "+currency+": billing is kept in USD alone")
		}
		card := p.rest(t, "GET", "/v1/services/search-api/cost?month="+month, nil)
		require.Equal(t, http.StatusOK, card.status, card.raw)
		require.Equal(t, 100.0, card.body["totalMonthlyCost"])
		require.Equal(t, "USD", card.body["currency"])
		requireCosts(t)
	})

	t.Run("ABudgetUpdateThatFailsChangesNothing", func(t *testing.T) {
		r := p.rest(t, "PATCH", "/v1/teams/team-x/budget", strings.NewReader(`{"monthlyAmount": 1, "currency": "EUR"}`))
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		r = p.rest(t, "GET", "/v1/teams/team-x/budget", nil)
		require.Equal(t, http.StatusOK, r.status, r.raw)
		require.Equal(t, 5000.0, r.body["monthlyAmount"])
		require.Equal(t, "USD", r.body["currency"])
	})

	t.Run("AFileOfOneHugeFieldIsRefusedAfterItsFirstMegabyte", func(t *testing.T) {
		body := &endless{b: 'x'}
		r, err := p.importFocusFrom(t, "huge", io.LimitReader(body, 200<<20))
		require.NoError(t, err, "the answer, sent before the upload ended")
		require.Equal(t, http.StatusBadRequest, r.status, r.raw)
		require.Contains(t, r.body["message"], "row 1: record longer than 1048576 bytes")
		// What the client could send: the bound, and what the buffers on
		// the way (gRPC's window, the sockets') held; nowhere near the file.
		require.Less(t, body.n.Load(), int64(64<<20))
		requireCosts(t)
	})
}
