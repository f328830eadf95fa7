package manifest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// How an environment's Application syncs.
const (
	// SyncAutomatic: Argo CD syncs on every change of the revision the
	// environment follows, pruning and healing drift.
	SyncAutomatic = "automatic"
	// SyncPromotion: only an approved promotion syncs it.
	SyncPromotion = "promotion"
)

// Environment is one stage of the promotion path, as the platform team
// configures it. Empty fields take Settings' values, or the defaults of
// DefaultEnvironments.
type Environment struct {
	Name string `yaml:"name"`
	// Sync is SyncAutomatic (the default) or SyncPromotion.
	Sync string `yaml:"sync"`
	// Revision is the Git revision (a branch, usually) the environment
	// deploys until a promotion points it elsewhere; empty: main.
	Revision string `yaml:"revision"`
	// Namespace is the workload's namespace on the destination cluster;
	// {team} is replaced by the team. Empty: the team's namespace.
	Namespace string `yaml:"namespace"`
	// Cluster is where the environment's Application lives, by its name
	// among the clusters Cairn is configured with; empty: the first.
	Cluster string `yaml:"cluster"`
	// ArgoCDNamespace and ArgoCDProject place the environment's
	// Application there; empty: Settings'.
	ArgoCDNamespace string `yaml:"argocdNamespace"`
	ArgoCDProject   string `yaml:"argocdProject"`
	// DestinationServer or DestinationName is the cluster Argo CD deploys
	// the workload to (a server URL, or a cluster's name in Argo CD, for
	// hub and spoke); neither: Settings' DestinationServer.
	DestinationServer string `yaml:"destinationServer"`
	DestinationName   string `yaml:"destinationName"`
	// Replicas says the plan's replica count applies here.
	Replicas bool `yaml:"replicas"`
	// Production says the environment is production-like: DORA metrics
	// count its deployments (and the incidents their revisions cause), and
	// removing the database of a service that deploys there needs force
	// and an admin.
	Production bool `yaml:"production"`
	// Promotion says how a revision gets into the environment; nil: only by
	// following Revision.
	Promotion *Promotion `yaml:"promotion"`
	// Claims, when set, gives the environment claims of its own (a
	// database and a bucket apart from the other environments'), placed
	// as it says; nil: the environment shares the service's claims, which
	// live in the team's namespace on the claims cluster.
	Claims *Claims `yaml:"claims"`
}

// Claims places an environment's own claims.
type Claims struct {
	// Cluster holds them, by its name among the clusters Cairn is
	// configured with; empty: the claims cluster.
	Cluster string `yaml:"cluster"`
	// Namespace is theirs; {team} is replaced by the team. Empty: the
	// team's namespace.
	Namespace string `yaml:"namespace"`
}

// Promotion is how revisions enter an environment from the one before it.
type Promotion struct {
	// From is the environment before this one on the path.
	From string `yaml:"from"`
	// Approval says a promotion waits for an approver of the team other
	// than its requester; without it a promotion is applied when asked.
	Approval bool `yaml:"approval"`
	// RequireRunning says a promotion must name the revision From runs now
	// (as its Argo CD Application reports it): no revision skips From.
	// An admin may force past it.
	RequireRunning bool `yaml:"requireRunning"`
}

// DefaultEnvironments is the path when none is configured: staging follows
// main and syncs automatically; production deploys release and syncs only
// on an approved promotion from staging, with the plan's replica count, and
// is production-like.
func DefaultEnvironments() []Environment {
	return []Environment{
		{Name: EnvironmentStaging, Sync: SyncAutomatic, Revision: DefaultRevision},
		{Name: EnvironmentProduction, Sync: SyncPromotion, Revision: DefaultProductionRevision, Replicas: true, Production: true,
			Promotion: &Promotion{From: EnvironmentStaging, Approval: true}},
	}
}

// ValidateEnvironments reports every reason envs is not a promotion path:
// none at all, a name Kubernetes labels cannot hold or given twice, an
// unknown sync mode, a promotion from an environment not on the path, or a
// cycle of promotions.
func ValidateEnvironments(envs []Environment) error {
	if len(envs) == 0 {
		return errors.New("environments: at least one is required")
	}
	var errs []error
	names := map[string]bool{}
	for i, env := range envs {
		at := fmt.Sprintf("environments[%d]", i)
		if bad := validation.IsDNS1123Label(env.Name); len(bad) > 0 {
			errs = append(errs, fmt.Errorf("%s: name %q: %s", at, env.Name, bad[0]))
		}
		if names[env.Name] {
			errs = append(errs, fmt.Errorf("%s: %q is named twice", at, env.Name))
		}
		names[env.Name] = true
		if env.Sync != "" && env.Sync != SyncAutomatic && env.Sync != SyncPromotion {
			errs = append(errs, fmt.Errorf("%s (%s): sync %q: want %s or %s", at, env.Name, env.Sync, SyncAutomatic, SyncPromotion))
		}
		if env.Sync == SyncPromotion && env.Promotion == nil {
			errs = append(errs, fmt.Errorf("%s (%s): syncs on promotion but says nothing of promotion.from", at, env.Name))
		}
		if env.DestinationServer != "" && env.DestinationName != "" {
			errs = append(errs, fmt.Errorf("%s (%s): give destinationServer or destinationName, not both", at, env.Name))
		}
		errs = append(errs, checkNamespacePattern(at+" ("+env.Name+"): namespace", env.Namespace))
		if env.Claims != nil {
			errs = append(errs, checkNamespacePattern(at+" ("+env.Name+"): claims.namespace", env.Claims.Namespace))
		}
	}
	for i, env := range envs {
		if env.Promotion == nil {
			continue
		}
		switch from := env.Promotion.From; {
		case from == "":
			errs = append(errs, fmt.Errorf("environments[%d] (%s): promotion.from is required", i, env.Name))
		case !names[from]:
			errs = append(errs, fmt.Errorf("environments[%d] (%s): promotion from %q, which is not an environment (have %s)",
				i, env.Name, from, strings.Join(slices.Sorted(maps.Keys(names)), ", ")))
		}
	}
	if cycle := promotionCycle(envs); cycle != nil {
		errs = append(errs, fmt.Errorf("environments: promotions go round in a cycle: %s", strings.Join(cycle, " -> ")))
	}
	return errors.Join(errs...)
}

// checkNamespacePattern says what is wrong with a namespace pattern, as it
// would be for a team of one letter: the longest teams are checked per
// service (Settings.CheckNamespaces).
func checkNamespacePattern(at, pattern string) error {
	if pattern == "" {
		return nil
	}
	if bad := validation.IsDNS1123Label(strings.ReplaceAll(pattern, "{team}", "a")); len(bad) > 0 {
		return fmt.Errorf("%s %q: %s", at, pattern, bad[0])
	}
	return nil
}

// promotionCycle returns the environments of a cycle of promotions, the
// first repeated at the end, or nil when there is none.
func promotionCycle(envs []Environment) []string {
	from := map[string]string{}
	for _, env := range envs {
		if env.Promotion != nil {
			from[env.Name] = env.Promotion.From
		}
	}
	for _, env := range envs {
		seen := map[string]bool{}
		path := []string{}
		for name := env.Name; name != ""; name = from[name] {
			if seen[name] {
				cycle := append(path[slices.Index(path, name):], name)
				slices.Reverse(cycle) // in the direction revisions travel
				return cycle
			}
			seen[name] = true
			path = append(path, name)
		}
	}
	return nil
}
