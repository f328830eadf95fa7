// Package cost reports what services and teams cost per month: billed cost
// from imported FinOps FOCUS files where there is some, and otherwise
// estimates from a configured price table: what a service's provisioning
// asks for (its database and its bucket) and what its Deployments request.
// It also keeps teams' budgets, and reports showback, daily series and
// month-over-month anomalies.
package cost

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/money"
	"github.com/cairn-dev/cairn/server/cost/focus"
	"github.com/cairn-dev/cairn/server/kube/manifest"
	"github.com/cairn-dev/cairn/store"
)

// HoursPerMonth turns hourly prices into monthly ones: 730 hours, the
// FinOps convention (8,760 hours a year / 12), which is also what AWS's
// pricing calculator uses.
const HoursPerMonth = 730

// Line types and sources, as the API reports them.
const (
	TypeDatabase = "database"
	TypeStorage  = "storage"

	SourceEstimated = "estimated"
	SourceBilled    = "billed"
)

// Config is the `cost:` section of Cairn's configuration. Every amount is in
// Currency.
type Config struct {
	// Currency is the ISO 4217 code of every amount, such as USD.
	Currency string     `yaml:"currency"`
	Prices   PriceTable `yaml:"prices"`
	// PlannedWorkload is what estimates of planned creates assume a
	// service will run.
	PlannedWorkload PlannedWorkload `yaml:"plannedWorkload"`
	// MappingTag is the tag of imported billing rows whose value names the
	// row's service.
	MappingTag string `yaml:"mappingTag"`
	// Regressions judges changes on the billed cost after them.
	Regressions RegressionConfig `yaml:"regressions"`
}

// PriceTable is what the resources a service can ask for cost.
type PriceTable struct {
	Database      DatabasePrices      `yaml:"database"`
	ObjectStorage ObjectStoragePrices `yaml:"objectStorage"`
	Workload      WorkloadPrices      `yaml:"workload"`
}

// DatabasePrices price a DatabaseClaim: its instances and its storage.
type DatabasePrices struct {
	// MultiAZ prices every database as two instances (a primary and a
	// standby or replica in another availability zone), and, unless the
	// engine's storage is shared, two copies of its storage, as RDS bills a
	// Multi-AZ instance. The platform's composition (database-aws) is
	// Multi-AZ.
	MultiAZ bool `yaml:"multiAZ"`
	// AllocatedGB is the storage a database is given: the composition
	// allocates 20 GB.
	AllocatedGB int64 `yaml:"allocatedGB"`
	// Engines are the prices per engine; every engine a DatabaseClaim
	// accepts (manifest.DatabaseEngines) must have one.
	Engines map[string]EnginePrices `yaml:"engines"`
}

// EnginePrices are one engine's prices.
type EnginePrices struct {
	// InstanceHourly is one instance's price per hour by size class (small,
	// medium, large); every size must have one.
	InstanceHourly map[string]Micros `yaml:"instanceHourly"`
	// StorageGBMonth is the price of a GB of storage per month; zero for an
	// engine billed by the instance alone (an in-memory cache).
	StorageGBMonth Micros `yaml:"storageGBMonth"`
	// SharedStorage means one storage volume serves every instance and is
	// billed once, Multi-AZ or not (DocumentDB's cluster volume).
	SharedStorage bool `yaml:"sharedStorage"`
}

// ObjectStoragePrices price a BucketClaim.
type ObjectStoragePrices struct {
	// GBMonth is the price of a GB stored per month.
	GBMonth Micros `yaml:"gbMonth"`
	// AssumedGB is what a bucket is assumed to hold: Cairn does not measure
	// buckets, so every bucket is estimated at this size.
	AssumedGB int64 `yaml:"assumedGB"`
}

// usd reads a literal of the default table; the literals are valid.
func usd(s string) Micros {
	m, err := ParseMicros(s)
	if err != nil {
		panic(err)
	}
	return m
}

// DefaultConfig is the table Cairn starts with: AWS us-east-1 (N. Virginia)
// on-demand list prices in USD as AWS publishes them on its pricing pages
// (aws.amazon.com/rds/pricing, /elasticache/pricing, /documentdb/pricing,
// /s3/pricing), without discounts, Reserved Instances or Savings Plans,
// taxes, backups beyond the free allowance, I/O requests or data transfer.
// List prices change and differ by region and agreement: operators should
// set their own.
//
// The sizes map to the classes of the platform's XRD and composition:
// small = db.t3.medium, medium = db.r6g.large, large = db.r6g.xlarge.
// postgresql and mysql are what database-aws provisions (RDS, gp3 storage).
// redis and mongodb have no composition yet; they are priced as the managed
// services a composition for them would most likely use, with the same
// class at each size: Amazon ElastiCache for Redis OSS nodes (cache.t3.medium,
// cache.r6g.large, cache.r6g.xlarge; no storage charge) and Amazon DocumentDB
// instances (db.t3.medium, db.r6g.large, db.r6g.xlarge; cluster storage
// billed once).
//
// Workloads are priced as AWS Fargate (Linux, x86) bills a task's requests
// (aws.amazon.com/fargate/pricing): per vCPU-hour and per GB-hour. A
// cluster of EC2 nodes costs what its nodes cost, whatever pods request;
// requests are what a service claims of it, the usual showback basis.
// A planned service is assumed to run the golden-path template's
// Deployment: 2 replicas of 100m CPU and 128Mi memory.
func DefaultConfig() Config {
	return Config{
		Currency:    "USD",
		MappingTag:  focus.DefaultMappingTag,
		Regressions: DefaultRegressionConfig(),
		Prices: PriceTable{
			Database: DatabasePrices{
				MultiAZ:     true,
				AllocatedGB: 20,
				Engines: map[string]EnginePrices{
					// RDS for PostgreSQL, Single-AZ per instance; gp3 storage.
					"postgresql": {
						InstanceHourly: map[string]Micros{"small": usd("0.072"), "medium": usd("0.225"), "large": usd("0.449")},
						StorageGBMonth: usd("0.115"),
					},
					// RDS for MySQL, Single-AZ per instance; gp3 storage.
					"mysql": {
						InstanceHourly: map[string]Micros{"small": usd("0.068"), "medium": usd("0.215"), "large": usd("0.43")},
						StorageGBMonth: usd("0.115"),
					},
					// ElastiCache for Redis OSS, per node: memory only, no
					// storage charge.
					"redis": {
						InstanceHourly: map[string]Micros{"small": usd("0.068"), "medium": usd("0.206"), "large": usd("0.411")},
					},
					// DocumentDB (standard storage), per instance; the cluster
					// volume is billed once (I/O requests not counted).
					"mongodb": {
						InstanceHourly: map[string]Micros{"small": usd("0.078"), "medium": usd("0.277"), "large": usd("0.554")},
						StorageGBMonth: usd("0.10"),
						SharedStorage:  true,
					},
				},
			},
			ObjectStorage: ObjectStoragePrices{
				// S3 Standard, first 50 TB per month.
				GBMonth: usd("0.023"),
				// An assumption, not a measurement: a new service's bucket
				// holds little; 100 GB errs on the side of more.
				AssumedGB: 100,
			},
			Workload: WorkloadPrices{VCPUHour: usd("0.04048"), GBHour: usd("0.004445")},
		},
		PlannedWorkload: PlannedWorkload{CPU: "100m", Memory: "128Mi", Replicas: 2},
	}
}

// Validate reports every problem of the configuration: a currency that is
// not an ISO 4217 code, engines or sizes a DatabaseClaim does not know, a
// known engine or size without a price, negative prices or sizes.
func (c Config) Validate() error {
	var errs []error
	if !isCurrencyCode(c.Currency) {
		errs = append(errs, fmt.Errorf("cost: currency %q: want an ISO 4217 code of three capital letters, such as USD", c.Currency))
	}
	errs = append(errs, c.Prices.validate()...)
	errs = append(errs, c.PlannedWorkload.validate()...)
	errs = append(errs, c.Regressions.validate()...)
	if c.MappingTag == "" {
		errs = append(errs, errors.New("cost: mappingTag: want the billing tag that names a row's service, such as app.kubernetes.io/name"))
	}
	return errors.Join(errs...)
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func (t PriceTable) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cost: prices: "+format, args...)) }
	db := t.Database
	if db.AllocatedGB < 0 {
		bad("database.allocatedGB %d: must not be negative", db.AllocatedGB)
	}
	for _, engine := range sortedKeys(db.Engines) {
		if !slices.Contains(manifest.DatabaseEngines, engine) {
			bad("database.engines.%s: unknown engine; want one of %s", engine, strings.Join(manifest.DatabaseEngines, ", "))
		}
	}
	for _, engine := range manifest.DatabaseEngines {
		e, ok := db.Engines[engine]
		if !ok {
			bad("database.engines.%s: missing; every engine needs prices", engine)
			continue
		}
		if e.StorageGBMonth < 0 {
			bad("database.engines.%s.storageGBMonth %s: must not be negative", engine, e.StorageGBMonth)
		}
		for _, size := range sortedKeys(e.InstanceHourly) {
			if !slices.Contains(manifest.DatabaseSizes, size) {
				bad("database.engines.%s.instanceHourly.%s: unknown size; want one of %s", engine, size, strings.Join(manifest.DatabaseSizes, ", "))
			}
		}
		for _, size := range manifest.DatabaseSizes {
			price, ok := e.InstanceHourly[size]
			switch {
			case !ok:
				bad("database.engines.%s.instanceHourly.%s: missing; every size needs a price", engine, size)
			case price < 0:
				bad("database.engines.%s.instanceHourly.%s %s: must not be negative", engine, size, price)
			}
		}
	}
	if t.ObjectStorage.GBMonth < 0 {
		bad("objectStorage.gbMonth %s: must not be negative", t.ObjectStorage.GBMonth)
	}
	if t.ObjectStorage.AssumedGB < 0 {
		bad("objectStorage.assumedGB %d: must not be negative", t.ObjectStorage.AssumedGB)
	}
	if t.Workload.VCPUHour < 0 {
		bad("workload.vcpuHour %s: must not be negative", t.Workload.VCPUHour)
	}
	if t.Workload.GBHour < 0 {
		bad("workload.gbHour %s: must not be negative", t.Workload.GBHour)
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Line is one resource's monthly cost.
type Line struct {
	// Resource is the claim's name ({service}-db, {service}-bucket), the
	// Deployment's namespace/name, or a billed row's resource id.
	Resource string
	// Type is TypeDatabase, TypeStorage or TypeCompute; a billed line's is
	// its FOCUS service category, in lower case.
	Type        string
	MonthlyCost money.Sum
	// Source is SourceEstimated (priced by the table) or SourceBilled.
	Source string
}

// Estimate prices what spec provisions for a month on the path of
// settings: for each of its claim sets (the one its environments share,
// and each environment's own), a line for the database, then one for the
// bucket, each that spec has. The table should have passed Validate and
// spec should come from provisioning.SpecOf; a database of an engine or
// size the table has no price for is priced at zero.
func (t PriceTable) Estimate(service string, spec store.ProvisioningSpec, settings manifest.Settings) []Line {
	lines := []Line{}
	for _, set := range settings.ClaimSets(manifest.Plan{Environments: spec.Environments}) {
		if spec.Database != "" && spec.Database != "none" {
			lines = append(lines, Line{
				Resource: set.DatabaseName(service), Type: TypeDatabase,
				MonthlyCost: t.Database.monthly(spec.Database, spec.DatabaseSize), Source: SourceEstimated,
			})
		}
		if spec.Bucket {
			lines = append(lines, Line{
				Resource: set.BucketName(service), Type: TypeStorage,
				MonthlyCost: money.FromBig(product(int64(t.ObjectStorage.GBMonth), t.ObjectStorage.AssumedGB)), Source: SourceEstimated,
			})
		}
	}
	return lines
}

// monthly is a database's price per month: its instances for 730 hours and
// its allocated storage, multiplied exactly: configured prices may be
// large enough to pass int64.
func (d DatabasePrices) monthly(engine, size string) money.Sum {
	if size == "" {
		size = manifest.DefaultDatabaseSize
	}
	e := d.Engines[engine]
	instances, volumes := int64(1), int64(1)
	if d.MultiAZ {
		instances = 2
		if !e.SharedStorage {
			volumes = 2
		}
	}
	compute := product(instances, int64(e.InstanceHourly[size]), HoursPerMonth)
	storage := product(volumes, int64(e.StorageGBMonth), d.AllocatedGB)
	return money.FromBig(compute.Add(compute, storage))
}

func (c Config) mappingTag() string { return c.MappingTag }
