// Package manifest builds the Kubernetes objects Cairn applies for a service: a
// Crossplane claim per requested resource in the team's namespace and an Argo
// CD Application per environment. The builders are pure functions of a Plan
// and Settings; the same input always gives the same objects, so a reconciler
// can apply them again with server-side apply (field manager FieldManager)
// after a retry or a restart and converge on the same state.
//
// The CRDs these objects are checked against are in deploy/crds; the
// Crossplane definitions that turn the claims into cloud resources are in
// deploy/crossplane.
package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// FieldManager is the server-side apply field manager for every object Cairn
// applies.
const FieldManager = "cairn"

// Labels and annotations on every object.
const (
	LabelName         = "app.kubernetes.io/name"
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	LabelTeam         = "team"
	LabelEnvironment  = "environment" // Applications only
	ManagedBy         = "cairn"
	AnnotationService = "cairn.dev/service"
)

// Kinds and API groups.
const (
	KindDatabaseClaim = "DatabaseClaim"
	KindBucketClaim   = "BucketClaim"
	KindApplication   = "Application"

	ArgoCDGroup   = "argoproj.io"
	ArgoCDVersion = "v1alpha1"
)

// Environments with a meaning of their own. Production syncs only by hand;
// every other environment syncs automatically.
const (
	EnvironmentStaging    = "staging"
	EnvironmentProduction = "production"
)

// Defaults for Settings and Plan.
const (
	DefaultClaimGroup         = "platform.company.com"
	DefaultClaimVersion       = "v1alpha1"
	DefaultArgoCDNamespace    = "argocd"
	DefaultArgoCDProject      = "{team}-project"
	DefaultDestinationServer  = "https://kubernetes.default.svc"
	DefaultRevision           = "main"
	DefaultProductionRevision = "release"
	DefaultDatabaseSize       = "small"
)

// DatabaseEngines and DatabaseSizes are the values a DatabaseClaim accepts,
// as in its CRD's enums.
var (
	DatabaseEngines = []string{"postgresql", "mysql", "redis", "mongodb"}
	DatabaseSizes   = []string{"small", "medium", "large"}
)

// defaultDatabaseVersions are the engine versions a claim gets when the plan
// names none. The XRD's own default ("15") suits PostgreSQL only.
var defaultDatabaseVersions = map[string]string{
	"postgresql": "15",
	"mysql":      "8.0",
	"redis":      "7.1",
	"mongodb":    "7.0",
}

// Plan is what to provision for one service, built from a create request.
type Plan struct {
	Service string
	Team    string
	// Namespace is the team's namespace; empty means Team.
	Namespace string

	Template      string
	RepositoryURL string

	// Database is the engine; "" or "none" means no database.
	Database string
	// DatabaseSize is small, medium or large; empty means small.
	DatabaseSize string
	// DatabaseVersion is the engine version; empty means the engine's
	// default (DefaultDatabaseVersion).
	DatabaseVersion string

	Bucket bool

	// Environments get one Application each, in the order of the promotion
	// path (Settings.OrderEnvironments). None means no Application.
	Environments []string
	// ReplicaCount, when positive, sets the replicas of the Deployment named
	// after the service in the environments that take it (Environment's
	// Replicas: production by default), a kustomize replicas override.
	ReplicaCount int32
	// Revisions are the Git revisions promotions pointed environments at,
	// by environment; an environment without one deploys its configured
	// Revision.
	Revisions map[string]string
}

// Settings are the cluster-wide choices the objects depend on. Empty fields
// take the defaults of DefaultSettings.
type Settings struct {
	ClaimGroup      string
	ClaimVersion    string
	ArgoCDNamespace string
	// ArgoCDProject is the Argo CD project of a team's Applications; the
	// text {team} is replaced by the team name.
	ArgoCDProject     string
	DestinationServer string
	// Environments is the promotion path, in order; none means
	// DefaultEnvironments. Check it with ValidateEnvironments.
	Environments []Environment
}

// DefaultSettings returns the settings that match deploy/crds and
// deploy/crossplane.
func DefaultSettings() Settings {
	return Settings{
		ClaimGroup:        DefaultClaimGroup,
		ClaimVersion:      DefaultClaimVersion,
		ArgoCDNamespace:   DefaultArgoCDNamespace,
		ArgoCDProject:     DefaultArgoCDProject,
		DestinationServer: DefaultDestinationServer,
	}
}

func (s Settings) complete() Settings {
	d := DefaultSettings()
	if s.ClaimGroup == "" {
		s.ClaimGroup = d.ClaimGroup
	}
	if s.ClaimVersion == "" {
		s.ClaimVersion = d.ClaimVersion
	}
	if s.ArgoCDNamespace == "" {
		s.ArgoCDNamespace = d.ArgoCDNamespace
	}
	if s.ArgoCDProject == "" {
		s.ArgoCDProject = d.ArgoCDProject
	}
	if s.DestinationServer == "" {
		s.DestinationServer = d.DestinationServer
	}
	if len(s.Environments) == 0 {
		s.Environments = DefaultEnvironments()
	}
	return s
}

// Environment returns the configured environment of that name, its empty
// fields filled from the settings; false when the path has none.
func (s Settings) Environment(name string) (Environment, bool) {
	s = s.complete()
	i := slices.IndexFunc(s.Environments, func(e Environment) bool { return e.Name == name })
	if i < 0 {
		return Environment{}, false
	}
	env := s.Environments[i]
	env.Sync = cmp.Or(env.Sync, SyncAutomatic)
	env.Revision = cmp.Or(env.Revision, DefaultRevision)
	env.ArgoCDNamespace = cmp.Or(env.ArgoCDNamespace, s.ArgoCDNamespace)
	env.ArgoCDProject = cmp.Or(env.ArgoCDProject, s.ArgoCDProject)
	if env.DestinationName == "" {
		env.DestinationServer = cmp.Or(env.DestinationServer, s.DestinationServer)
	}
	return env, true
}

// EnvironmentNames are the names of the promotion path, in order.
func (s Settings) EnvironmentNames() []string {
	var names []string
	for _, env := range s.complete().Environments {
		names = append(names, env.Name)
	}
	return names
}

// ProductionEnvironments are the names of the path's production-like
// environments, in path order; none when it marks none.
func (s Settings) ProductionEnvironments() []string {
	var names []string
	for _, env := range s.complete().Environments {
		if env.Production {
			names = append(names, env.Name)
		}
	}
	return names
}

// OrderEnvironments returns envs without repeats in the order of the
// promotion path, then any the path does not hold by name.
func (s Settings) OrderEnvironments(envs []string) []string {
	path := s.EnvironmentNames()
	rank := func(env string) int {
		if i := slices.Index(path, env); i >= 0 {
			return i
		}
		return len(path)
	}
	out := slices.Clone(envs)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(a, b))
	})
	return slices.Compact(out)
}

// CheckEnvironments says which of envs the promotion path does not hold,
// naming those it does.
func (s Settings) CheckEnvironments(envs []string) error {
	path := s.EnvironmentNames()
	for _, env := range envs {
		if !slices.Contains(path, env) {
			return fmt.Errorf("environment %q is not configured: want one of %s", env, strings.Join(path, ", "))
		}
	}
	return nil
}

// Project returns the Argo CD project of a team's Applications.
func (s Settings) Project(team string) string {
	return strings.ReplaceAll(s.complete().ArgoCDProject, "{team}", team)
}

// Kind names one kind of object Cairn applies and watches.
type Kind struct {
	schema.GroupVersionKind
	Resource string // the plural resource name
	// Claim is true for Crossplane claims (namespaced in a team's
	// namespace), false for Applications (in the Argo CD namespace).
	Claim bool
}

// GroupVersionResource returns the kind's resource.
func (k Kind) GroupVersionResource() schema.GroupVersionResource {
	return k.GroupVersion().WithResource(k.Resource)
}

// Kinds returns every kind Cairn applies, claims first: the resources to
// watch with informers.
func Kinds(s Settings) []Kind {
	return []Kind{DatabaseClaimKind(s), BucketClaimKind(s), ApplicationKind}
}

// DatabaseClaimKind is the DatabaseClaim of the configured claim group.
func DatabaseClaimKind(s Settings) Kind {
	return Kind{GroupVersionKind: s.claimGroupVersion().WithKind(KindDatabaseClaim), Resource: "databaseclaims", Claim: true}
}

// BucketClaimKind is the BucketClaim of the configured claim group.
func BucketClaimKind(s Settings) Kind {
	return Kind{GroupVersionKind: s.claimGroupVersion().WithKind(KindBucketClaim), Resource: "bucketclaims", Claim: true}
}

func (s Settings) claimGroupVersion() schema.GroupVersion {
	s = s.complete()
	return schema.GroupVersion{Group: s.ClaimGroup, Version: s.ClaimVersion}
}

// ApplicationKind is Argo CD's Application.
var ApplicationKind = Kind{
	GroupVersionKind: schema.GroupVersionKind{Group: ArgoCDGroup, Version: ArgoCDVersion, Kind: KindApplication},
	Resource:         "applications",
}

// Names of the objects of a service.

// DatabaseClaimName is the name of a service's DatabaseClaim.
func DatabaseClaimName(service string) string { return service + "-db" }

// BucketClaimName is the name of a service's BucketClaim.
func BucketClaimName(service string) string { return service + "-bucket" }

// ApplicationName is the name of a service's Application for an environment.
func ApplicationName(service, environment string) string { return service + "-" + environment }

// ConnectionSecretName is the Secret, in the claim's namespace, that receives
// a claim's connection details (deploy/crossplane reports it as
// status.secretName).
func ConnectionSecretName(claim string) string { return claim + "-connection" }

// DefaultDatabaseVersion returns the version a claim for engine gets when the
// plan names none.
func DefaultDatabaseVersion(engine string) string { return defaultDatabaseVersions[engine] }

// CheckPlan reports the first reason p cannot become objects on the path:
// Validate's, or a namespace an environment's pattern makes of the team
// that Kubernetes would refuse.
func (s Settings) CheckPlan(p Plan) error {
	if err := p.Validate(); err != nil {
		return err
	}
	for _, name := range s.OrderEnvironments(p.Environments) {
		env, _ := s.Environment(name)
		if ns := p.workloadNamespace(env); len(validation.IsDNS1123Label(ns)) > 0 {
			return fmt.Errorf("namespace %q of %s: %s", ns, name, validation.IsDNS1123Label(ns)[0])
		}
	}
	for _, set := range s.ClaimSets(p) {
		if bad := validation.IsDNS1123Label(set.Namespace); set.Environment != "" && len(bad) > 0 {
			return fmt.Errorf("claims namespace %q of %s: %s", set.Namespace, set.Environment, bad[0])
		}
	}
	return nil
}

// HasDatabase reports whether the plan asks for a database.
func (p Plan) HasDatabase() bool { return p.Database != "" && p.Database != "none" }

func (p Plan) namespace() string {
	if p.Namespace != "" {
		return p.Namespace
	}
	return p.Team
}

// Validate reports the first reason the plan cannot become objects: names
// that Kubernetes would refuse, an unknown engine or size, environments
// without a repository to deploy.
func (p Plan) Validate() error {
	if errs := validation.IsDNS1123Label(p.Service); len(errs) > 0 {
		return fmt.Errorf("service %q: %s", p.Service, errs[0])
	}
	if p.Team == "" {
		return fmt.Errorf("team is required")
	}
	if errs := validation.IsValidLabelValue(p.Team); len(errs) > 0 {
		return fmt.Errorf("team %q: %s", p.Team, errs[0])
	}
	if errs := validation.IsDNS1123Label(p.namespace()); len(errs) > 0 {
		return fmt.Errorf("namespace %q: %s", p.namespace(), errs[0])
	}
	if p.HasDatabase() {
		if !slices.Contains(DatabaseEngines, p.Database) {
			return fmt.Errorf("database %q: must be one of none, %s", p.Database, strings.Join(DatabaseEngines, ", "))
		}
		if p.DatabaseSize != "" && !slices.Contains(DatabaseSizes, p.DatabaseSize) {
			return fmt.Errorf("database size %q: must be one of %s", p.DatabaseSize, strings.Join(DatabaseSizes, ", "))
		}
	}
	if len(p.Environments) > 0 && p.RepositoryURL == "" {
		return fmt.Errorf("repository URL is required to deploy to %s", strings.Join(p.Environments, ", "))
	}
	for _, env := range p.Environments {
		if errs := validation.IsDNS1123Label(env); len(errs) > 0 {
			return fmt.Errorf("environment %q: %s", env, errs[0])
		}
		if errs := validation.IsDNS1123Subdomain(ApplicationName(p.Service, env)); len(errs) > 0 {
			return fmt.Errorf("application name %q: %s", ApplicationName(p.Service, env), errs[0])
		}
	}
	if p.ReplicaCount < 0 {
		return fmt.Errorf("replica count %d: must not be negative", p.ReplicaCount)
	}
	return nil
}

// Objects returns every object of the plan: for each of its claim sets
// (ClaimSets), the DatabaseClaim and the BucketClaim when asked for, then
// one Application per environment (see Plan.Environments for the order).
// The plan should have passed Validate.
func Objects(p Plan, s Settings) []*unstructured.Unstructured {
	var objs []*unstructured.Unstructured
	for _, set := range s.ClaimSets(p) {
		if p.HasDatabase() {
			objs = append(objs, set.DatabaseClaim(p, s))
		}
		if p.Bucket {
			objs = append(objs, set.BucketClaim(p, s))
		}
	}
	for _, env := range s.OrderEnvironments(p.Environments) {
		objs = append(objs, Application(p, env, s))
	}
	return objs
}

// ClaimSet is one set of a service's claims: the set its environments
// share, or the set of one environment that has claims of its own
// (Environment.Claims).
type ClaimSet struct {
	// Environment is the environment the set is of; "" for the shared set.
	Environment string
	// Namespace is where the set's claims live.
	Namespace string
}

// ClaimSets are the claim sets of a plan, in the order of the promotion
// path: the shared set, in the team's namespace, unless every environment
// of the plan has claims of its own, then one set for each such
// environment. A plan of no environment has the shared set alone.
func (s Settings) ClaimSets(p Plan) []ClaimSet {
	var sets []ClaimSet
	shared := len(p.Environments) == 0
	for _, name := range s.OrderEnvironments(p.Environments) {
		env, _ := s.Environment(name)
		if env.Claims == nil {
			shared = true
			continue
		}
		namespace := p.namespace()
		if env.Claims.Namespace != "" {
			namespace = strings.ReplaceAll(env.Claims.Namespace, "{team}", p.Team)
		}
		sets = append(sets, ClaimSet{Environment: name, Namespace: namespace})
	}
	if shared {
		sets = slices.Insert(sets, 0, ClaimSet{Namespace: p.namespace()})
	}
	return sets
}

// DatabaseName is the name of the set's DatabaseClaim: {service}-db for
// the shared set, {service}-{environment}-db for an environment's.
func (c ClaimSet) DatabaseName(service string) string {
	return DatabaseClaimName(c.qualified(service))
}

// BucketName is the name of the set's BucketClaim, as DatabaseName.
func (c ClaimSet) BucketName(service string) string {
	return BucketClaimName(c.qualified(service))
}

func (c ClaimSet) qualified(service string) string {
	if c.Environment == "" {
		return service
	}
	return service + "-" + c.Environment
}

// DatabaseClaim returns the plan's shared DatabaseClaim, {service}-db in
// the team's namespace. It is built even when the plan asks for no
// database (with an empty engine); Objects leaves it out then.
func DatabaseClaim(p Plan, s Settings) *unstructured.Unstructured {
	return ClaimSet{Namespace: p.namespace()}.DatabaseClaim(p, s)
}

// BucketClaim returns the plan's shared BucketClaim, {service}-bucket in
// the team's namespace, with versioning on.
func BucketClaim(p Plan, s Settings) *unstructured.Unstructured {
	return ClaimSet{Namespace: p.namespace()}.BucketClaim(p, s)
}

// DatabaseClaim returns the set's DatabaseClaim, labelled with the set's
// environment when it is one's own.
func (c ClaimSet) DatabaseClaim(p Plan, s Settings) *unstructured.Unstructured {
	name := c.DatabaseName(p.Service)
	size := p.DatabaseSize
	if size == "" {
		size = DefaultDatabaseSize
	}
	version := p.DatabaseVersion
	if version == "" {
		version = DefaultDatabaseVersion(p.Database)
	}
	spec := map[string]any{
		"engine":                     p.Database,
		"size":                       size,
		"writeConnectionSecretToRef": map[string]any{"name": ConnectionSecretName(name)},
	}
	if version != "" {
		spec["version"] = version
	}
	return object(DatabaseClaimKind(s).GroupVersionKind, name, c.Namespace, labels(p, c.Environment), p.Service, spec)
}

// BucketClaim returns the set's BucketClaim, with versioning on.
func (c ClaimSet) BucketClaim(p Plan, s Settings) *unstructured.Unstructured {
	name := c.BucketName(p.Service)
	spec := map[string]any{
		"versioning":                 true,
		"writeConnectionSecretToRef": map[string]any{"name": ConnectionSecretName(name)},
	}
	return object(BucketClaimKind(s).GroupVersionKind, name, c.Namespace, labels(p, c.Environment), p.Service, spec)
}

// Application returns the plan's Argo CD Application for an environment,
// {service}-{environment} in the environment's Argo CD namespace. It
// deploys k8s/overlays/{environment} of the service's repository, at the
// revision a promotion set or else the environment's own, into the
// environment's namespace on its destination cluster. An environment that
// syncs on promotion syncs only when asked (after an approved promotion);
// every other syncs automatically, pruning and healing drift. An
// environment the settings do not hold deploys main automatically.
func Application(p Plan, environment string, s Settings) *unstructured.Unstructured {
	s = s.complete()
	env, ok := s.Environment(environment)
	if !ok {
		env = Environment{Name: environment, Sync: SyncAutomatic, Revision: DefaultRevision,
			ArgoCDNamespace: s.ArgoCDNamespace, ArgoCDProject: s.ArgoCDProject, DestinationServer: s.DestinationServer}
	}

	source := map[string]any{
		"repoURL":        p.RepositoryURL,
		"targetRevision": cmp.Or(p.Revisions[environment], env.Revision),
		"path":           "k8s/overlays/" + environment,
	}
	if env.Replicas && p.ReplicaCount > 0 {
		source["kustomize"] = map[string]any{
			"replicas": []any{map[string]any{"name": p.Service, "count": int64(p.ReplicaCount)}},
		}
	}

	syncPolicy := map[string]any{
		"syncOptions": []any{"CreateNamespace=true"},
		"retry": map[string]any{
			"limit": int64(3),
			"backoff": map[string]any{
				"duration":    "5s",
				"factor":      int64(2),
				"maxDuration": "3m0s",
			},
		},
	}
	if env.Sync != SyncPromotion {
		syncPolicy["automated"] = map[string]any{"prune": true, "selfHeal": true}
	}

	destination := map[string]any{"namespace": p.workloadNamespace(env)}
	if env.DestinationName != "" {
		destination["name"] = env.DestinationName
	} else {
		destination["server"] = env.DestinationServer
	}
	spec := map[string]any{
		"project":     strings.ReplaceAll(env.ArgoCDProject, "{team}", p.Team),
		"source":      source,
		"destination": destination,
		"syncPolicy":  syncPolicy,
	}
	return object(ApplicationKind.GroupVersionKind, ApplicationName(p.Service, environment),
		env.ArgoCDNamespace, labels(p, environment), p.Service, spec)
}

// workloadNamespace is where the plan's workload runs in env: the
// environment's namespace pattern, or the team's namespace.
func (p Plan) workloadNamespace(env Environment) string {
	if env.Namespace == "" {
		return p.namespace()
	}
	return strings.ReplaceAll(env.Namespace, "{team}", p.Team)
}

func labels(p Plan, environment string) map[string]any {
	l := map[string]any{
		LabelName:      p.Service,
		LabelManagedBy: ManagedBy,
		LabelTeam:      p.Team,
	}
	if environment != "" {
		l[LabelEnvironment] = environment
	}
	return l
}

func object(gvk schema.GroupVersionKind, name, namespace string, labels map[string]any, service string, spec map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": gvk.GroupVersion().String(),
		"kind":       gvk.Kind,
		"metadata": map[string]any{
			"name":        name,
			"namespace":   namespace,
			"labels":      labels,
			"annotations": map[string]any{AnnotationService: service},
		},
		"spec": spec,
	}}
}
