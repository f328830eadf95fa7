package server

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/server/cost"
)

func TestCostRegressionRulesAreReadFromTheFile(t *testing.T) {
	cfg, err := LoadConfig(nil, env(map[string]string{"CAIRN_CONFIG": writeConfig(t,
		"cost:\n  regressions:\n    days: 14\n    thresholdPercent: 20\n    floorMonthly: 25.5\n")}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, cost.RegressionConfig{Days: 14, ThresholdPercent: 20, FloorMonthly: 25_500_000}, cfg.Cost.Regressions)

	_, err = LoadConfig(nil, env(map[string]string{"CAIRN_CONFIG": writeConfig(t, "cost:\n  regressions:\n    days: 0\n")}), io.Discard)
	require.ErrorContains(t, err, "regressions.days 0")
}
