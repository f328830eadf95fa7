package cost

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// decimal formats a sum that fits an int64 as Micros do: 52.56, 3.
func decimal(s money.Sum) string {
	n, ok := s.Int64()
	if !ok {
		return s.String() + " micros"
	}
	return Micros(n).String()
}

// bigOf is a decimal integer.
func bigOf(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func TestSmallPostgresPlusBucketMatchesThePriceTableByHand(t *testing.T) {
	// By hand from the default table: db.t3.medium PostgreSQL at $0.072 an
	// hour, two instances (Multi-AZ) for 730 hours; 20 GB of gp3 at $0.115,
	// two copies; a bucket of 100 GB at $0.023.
	const (
		instance = 72_000 * 730 * 2 // 105.12 USD
		storage  = 115_000 * 20 * 2 // 4.60 USD
		bucket   = 23_000 * 100     // 2.30 USD
	)
	lines := DefaultConfig().Prices.Estimate("orders-service", store.ProvisioningSpec{
		Database: "postgresql", DatabaseSize: "small", Bucket: true,
	}, manifest.DefaultSettings())
	require.Equal(t, []Line{
		{Resource: "orders-service-db", Type: TypeDatabase, MonthlyCost: money.Of(instance + storage), Source: SourceEstimated},
		{Resource: "orders-service-bucket", Type: TypeStorage, MonthlyCost: money.Of(bucket), Source: SourceEstimated},
	}, lines)
	require.Equal(t, money.Of(112_020_000), Sum(lines))
	require.Equal(t, 112.02, units(Sum(lines)))
}

// An environment with claims of its own is priced for them, beside the
// claims the others share; a service of that environment alone has only
// its own.
func TestEstimatePricesTheClaimsOfEachClaimSet(t *testing.T) {
	settings := manifest.DefaultSettings()
	settings.Environments = []manifest.Environment{
		{Name: "dev"},
		{Name: "staging", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "dev"}},
		{Name: "production", Sync: manifest.SyncPromotion, Promotion: &manifest.Promotion{From: "staging"},
			Claims: &manifest.Claims{Cluster: "prod", Namespace: "{team}-production"}},
	}
	spec := store.ProvisioningSpec{Database: "postgresql", DatabaseSize: "small", Environments: []string{"dev", "staging", "production"}}
	lines := DefaultConfig().Prices.Estimate("orders-service", spec, settings)
	var resources []string
	for _, l := range lines {
		resources = append(resources, l.Resource)
		require.Equal(t, lines[0].MonthlyCost, l.MonthlyCost, "the same database, priced the same")
	}
	require.Equal(t, []string{"orders-service-db", "orders-service-production-db"}, resources)

	spec.Environments = []string{"production"}
	lines = DefaultConfig().Prices.Estimate("orders-service", spec, settings)
	require.Len(t, lines, 1)
	require.Equal(t, "orders-service-production-db", lines[0].Resource)
}

func TestEveryEngineAndSizeIsPricedFromItsClass(t *testing.T) {
	for _, tc := range []struct {
		engine, size string
		want         string // monthly, Multi-AZ, 20 GB
	}{
		{"postgresql", "small", "109.72"}, // 2 × 0.072 × 730 + 2 × 20 × 0.115
		{"postgresql", "", "109.72"},      // no size is small
		{"postgresql", "medium", "333.1"}, // 2 × 0.225 × 730 + 4.60
		{"postgresql", "large", "660.14"}, // 2 × 0.449 × 730 + 4.60
		{"mysql", "small", "103.88"},      // 2 × 0.068 × 730 + 4.60
		{"mysql", "medium", "318.5"},      // 2 × 0.215 × 730 + 4.60
		{"mysql", "large", "632.4"},       // 2 × 0.43 × 730 + 4.60
		{"redis", "small", "99.28"},       // 2 × 0.068 × 730, no storage
		{"redis", "medium", "300.76"},     // 2 × 0.206 × 730
		{"redis", "large", "600.06"},      // 2 × 0.411 × 730
		{"mongodb", "small", "115.88"},    // 2 × 0.078 × 730 + 20 × 0.10 once
		{"mongodb", "medium", "406.42"},   // 2 × 0.277 × 730 + 2.00
		{"mongodb", "large", "810.84"},    // 2 × 0.554 × 730 + 2.00
	} {
		t.Run(tc.engine+"/"+tc.size, func(t *testing.T) {
			lines := DefaultConfig().Prices.Estimate("svc", store.ProvisioningSpec{Database: tc.engine, DatabaseSize: tc.size}, manifest.DefaultSettings())
			require.Len(t, lines, 1)
			require.Equal(t, "svc-db", lines[0].Resource)
			require.Equal(t, tc.want, decimal(lines[0].MonthlyCost))
		})
	}
}

func TestMultiAZDoublesInstancesAndUnsharedStorage(t *testing.T) {
	for _, engine := range []string{"postgresql", "mysql", "redis"} {
		t.Run(engine, func(t *testing.T) {
			single := DefaultConfig().Prices
			single.Database.MultiAZ = false
			spec := store.ProvisioningSpec{Database: engine, DatabaseSize: "medium"}
			one := Sum(single.Estimate("svc", spec, manifest.DefaultSettings()))
			require.Equal(t, one.Add(one), Sum(DefaultConfig().Prices.Estimate("svc", spec, manifest.DefaultSettings())))
		})
	}
	t.Run("mongodb bills its shared cluster volume once", func(t *testing.T) {
		single := DefaultConfig().Prices
		single.Database.MultiAZ = false
		spec := store.ProvisioningSpec{Database: "mongodb", DatabaseSize: "small"}
		require.Equal(t, "58.94", decimal(Sum(single.Estimate("svc", spec, manifest.DefaultSettings()))))                  // 0.078 × 730 + 2.00
		require.Equal(t, "115.88", decimal(Sum(DefaultConfig().Prices.Estimate("svc", spec, manifest.DefaultSettings())))) // 2 × 56.94 + 2.00
	})
}

func TestNothingProvisionedEstimatesNoLines(t *testing.T) {
	for _, spec := range []store.ProvisioningSpec{{}, {Database: "none"}} {
		lines := DefaultConfig().Prices.Estimate("svc", spec, manifest.DefaultSettings())
		require.Empty(t, lines)
		require.NotNil(t, lines)
		require.Zero(t, Sum(lines))
	}
}

func TestMicrosSumsAreExactForManyLines(t *testing.T) {
	// 0.1 has no exact float64: a million float additions drift; micros
	// do not.
	lines := make([]Line, 1_000_000)
	var floatSum float64
	for i := range lines {
		lines[i].MonthlyCost = money.Of(100_000) // 0.10
		floatSum += 0.1
	}
	require.Equal(t, money.Of(100_000*1_000_000), Sum(lines))
	require.Equal(t, 100_000.0, units(Sum(lines)))
	require.NotEqual(t, 100_000.0, floatSum, "the float sum drifts, which is why amounts are micros")
}

func TestMicrosParseAndFormatExactly(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Micros
		out  string
	}{
		{"0.072", 72_000, "0.072"},
		{"12", 12_000_000, "12"},
		{"52.56", 52_560_000, "52.56"},
		{".5", 500_000, "0.5"},
		{"-1.25", -1_250_000, "-1.25"},
		{"0.000001", 1, "0.000001"},
		{"0", 0, "0"},
	} {
		got, err := ParseMicros(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.out, got.String(), tc.in)
	}
	for _, bad := range []string{"", ".", "1e3", "0.0000001", "1,5", "abc", "9223372036855"} {
		_, err := ParseMicros(bad)
		require.Error(t, err, bad)
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
}

func TestConfigValidationRefusesBadTables(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"empty currency", func(c *Config) { c.Currency = "" }, `currency ""`},
		{"lower-case currency", func(c *Config) { c.Currency = "usd" }, `currency "usd"`},
		{"long currency", func(c *Config) { c.Currency = "USDT" }, `currency "USDT"`},
		{"unknown engine", func(c *Config) { c.Prices.Database.Engines["oracle"] = EnginePrices{} }, "database.engines.oracle: unknown engine"},
		{"missing engine", func(c *Config) { delete(c.Prices.Database.Engines, "redis") }, "database.engines.redis: missing"},
		{"unknown size", func(c *Config) { c.Prices.Database.Engines["mysql"].InstanceHourly["xlarge"] = 1 }, "instanceHourly.xlarge: unknown size"},
		{"missing size", func(c *Config) { delete(c.Prices.Database.Engines["mysql"].InstanceHourly, "large") }, "instanceHourly.large: missing"},
		{"negative instance price", func(c *Config) { c.Prices.Database.Engines["postgresql"].InstanceHourly["small"] = -1 }, "instanceHourly.small -0.000001: must not be negative"},
		{"negative storage price", func(c *Config) {
			e := c.Prices.Database.Engines["postgresql"]
			e.StorageGBMonth = -115_000
			c.Prices.Database.Engines["postgresql"] = e
		}, "storageGBMonth -0.115: must not be negative"},
		{"negative allocated size", func(c *Config) { c.Prices.Database.AllocatedGB = -20 }, "allocatedGB -20"},
		{"negative bucket price", func(c *Config) { c.Prices.ObjectStorage.GBMonth = -23_000 }, "objectStorage.gbMonth -0.023"},
		{"negative bucket size", func(c *Config) { c.Prices.ObjectStorage.AssumedGB = -1 }, "objectStorage.assumedGB -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
}

func TestDefaultConfigsDoNotShareMaps(t *testing.T) {
	a := DefaultConfig()
	a.Prices.Database.Engines["postgresql"].InstanceHourly["small"] = 1
	require.Equal(t, Micros(72_000), DefaultConfig().Prices.Database.Engines["postgresql"].InstanceHourly["small"])
}

func TestYAMLSetsPricesExactlyOverTheDefaults(t *testing.T) {
	c := DefaultConfig()
	require.NoError(t, yaml.Unmarshal([]byte(`
currency: EUR
prices:
  database:
    multiAZ: false
    allocatedGB: 50
    engines:
      postgresql:
        instanceHourly: {small: 0.066, medium: "0.2", large: 0.41}
        storageGBMonth: 0.127
  objectStorage:
    gbMonth: 0.0245
    assumedGB: 10
`), &c))
	require.NoError(t, c.Validate())
	require.Equal(t, "EUR", c.Currency)
	require.Equal(t, Micros(66_000), c.Prices.Database.Engines["postgresql"].InstanceHourly["small"])
	require.Equal(t, Micros(72_000), DefaultConfig().Prices.Database.Engines["postgresql"].InstanceHourly["small"])
	require.Equal(t, Micros(68_000), c.Prices.Database.Engines["mysql"].InstanceHourly["small"], "engines not named keep their defaults")
	lines := c.Prices.Estimate("svc", store.ProvisioningSpec{Database: "postgresql", Bucket: true}, manifest.DefaultSettings())
	require.Equal(t, money.Of(66_000*730+127_000*50), lines[0].MonthlyCost)
	require.Equal(t, money.Of(24_500*10), lines[1].MonthlyCost)
}

func TestYAMLRefusesPricesThatAreNotDecimals(t *testing.T) {
	for _, doc := range []string{
		"prices: {objectStorage: {gbMonth: 1e-3}}",
		"prices: {objectStorage: {gbMonth: 0.0000001}}",
		"prices: {objectStorage: {gbMonth: [1]}}",
	} {
		c := DefaultConfig()
		require.Error(t, yaml.Unmarshal([]byte(doc), &c), doc)
	}
}
