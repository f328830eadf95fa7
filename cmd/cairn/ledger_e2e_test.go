package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDailyAnomaliesAndTemplateLedgersOverRESTAndTheCLI(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.name, func(t *testing.T) {
			p := startCairn(t, engine.storeURL(t))
			r := p.rest(t, "POST", "/v1/services:register", strings.NewReader(
				`{"service": {"name": "services/orders-service", "type": "service", "lifecycle": "production", "owner": "team-x"}}`))
			require.Equal(t, http.StatusOK, r.status, r.raw)
			// 10.00 USD a day from 1 to 28 November, then 30.00 on the 29th:
			// a flat baseline (MAD zero) and a day 200% above its median.
			var csv strings.Builder
			csv.WriteString("BilledCost,EffectiveCost,ListCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,ResourceId,ServiceName,ServiceCategory,Tags\n")
			for day := 1; day <= 29; day++ {
				cost := "10.00"
				if day == 29 {
					cost = "30.00"
				}
				fmt.Fprintf(&csv, "%s,%s,%s,USD,2026-11-%02dT00:00:00Z,2026-11-%02dT01:00:00Z,Usage,arn:aws:rds:orders-db,Amazon RDS,Databases,\"{\"\"app.kubernetes.io/name\"\":\"\"orders-service\"\"}\"\n",
					cost, cost, cost, day, day)
			}
			r = p.importFocus(t, "aws-cur", csv.String())
			require.Equal(t, http.StatusOK, r.status, r.raw)

			r = p.rest(t, "GET", "/v1/dailyCostAnomalies?date.year=2026&date.month=11&date.day=29", nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			anomalies := r.body["anomalies"].([]any)
			require.Len(t, anomalies, 1)
			spike := anomalies[0].(map[string]any)
			require.Equal(t, "orders-service", spike["serviceName"])
			require.Equal(t, 30.0, spike["cost"])
			require.Equal(t, 10.0, spike["baselineMedian"])
			require.Equal(t, true, spike["flatBaseline"])
			require.NotContains(t, spike, "modifiedZScore", "no score is divided out of a MAD of zero")

			r = p.rest(t, "GET", "/v1/dailyCostAnomalies?date.year=2026&date.month=11&date.day=28", nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Empty(t, r.body["anomalies"], "an ordinary day of the same baseline")

			r = p.rest(t, "GET", "/v1/dailyCostAnomalies?date.year=2026&date.month=2&date.day=30", nil)
			require.Equal(t, http.StatusBadRequest, r.status, r.raw)

			out := runCLI(t, p.grpcAddr, adminToken, "cost", "anomalies", "--date", "2026-11-29")
			require.Equal(t, 0, out.code, out.stderr)
			require.Contains(t, out.stdout, "daily cost anomalies of 2026-11-29 (USD)")
			require.Contains(t, out.stdout, "orders-service")
			require.Contains(t, out.stdout, "flat baseline")

			r = p.rest(t, "GET", "/v1/templateLedgers", nil)
			require.Equal(t, http.StatusOK, r.status, r.raw)
			require.Empty(t, r.body["ledgers"], "nothing was provisioned from a template")
			require.Equal(t, "USD", r.body["currency"])
			out = runCLI(t, p.grpcAddr, adminToken, "template", "ledger")
			require.Equal(t, 0, out.code, out.stderr)
			require.Equal(t, "no templates\n", out.stdout)
		})
	}
}
