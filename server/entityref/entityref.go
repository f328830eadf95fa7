// Package entityref reads Backstage entity references, `[kind:][namespace/]name`,
// as they appear in catalog-info.yaml owners, in Backstage user tokens and in
// Cairn's auth configuration, and says which teams they make. It is the one
// place where Cairn decides whether two references name the same entity.
//
// Backstage compares references without regard to case, fills an omitted
// namespace with `default` and an omitted kind from context (an owner is a
// group unless it says otherwise). Canonical does the same, and folds the
// case, so that the canonical forms of two references are equal exactly
// when Backstage takes them for one entity.
package entityref

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// MaxLength bounds a reference.
const MaxLength = 253

// DefaultNamespace is the namespace of a reference that names none.
const DefaultNamespace = "default"

var (
	ref          = regexp.MustCompile(`^(?:([A-Za-z][A-Za-z0-9]*):)?(?:([A-Za-z0-9][-A-Za-z0-9]*)/)?([A-Za-z0-9][-A-Za-z0-9_.]*)$`)
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Ref is a parsed entity reference. Kind is lowercased; Kind and Namespace
// are empty when the reference leaves them out.
type Ref struct {
	Kind, Namespace, Name string
}

// Parse reads an entity reference as written.
func Parse(s string) (Ref, bool) {
	m := ref.FindStringSubmatch(s)
	if m == nil || len(s) > MaxLength {
		return Ref{}, false
	}
	return Ref{Kind: strings.ToLower(m[1]), Namespace: m[2], Name: m[3]}, true
}

// Canonical reads an entity reference into its canonical form: kind,
// namespace and name lowercased, the namespace `default` when omitted, and
// the kind defaultKind when omitted. With defaultKind "" a reference must
// name its kind.
func Canonical(s, defaultKind string) (Ref, bool) {
	r, ok := Parse(s)
	if !ok {
		return Ref{}, false
	}
	if r.Kind == "" {
		r.Kind = strings.ToLower(defaultKind)
	}
	if r.Kind == "" {
		return Ref{}, false
	}
	if r.Namespace == "" {
		r.Namespace = DefaultNamespace
	}
	r.Namespace, r.Name = strings.ToLower(r.Namespace), strings.ToLower(r.Name)
	return r, true
}

// String is the reference as `kind:namespace/name`, leaving out what r
// leaves out. The String of a canonical Ref is the canonical reference.
func (r Ref) String() string {
	s := r.Name
	if r.Namespace != "" {
		s = r.Namespace + "/" + s
	}
	if r.Kind != "" {
		s = r.Kind + ":" + s
	}
	return s
}

// validNamespace reports whether ns can be a Backstage namespace that makes
// teams: a DNS-1123 label (Backstage's own rule, in lowercase).
func validNamespace(ns string) bool {
	return len(ns) <= 63 && dns1123Label.MatchString(ns)
}

// Teams says which references make teams: the groups (and users, who may
// own services too) of a set of namespaces. A team is the lowercased name
// of such a group, so groups of one name in two of these namespaces are one
// team. The zero value makes teams of namespace `default` only.
type Teams struct {
	namespaces []string // sorted, lowercase, without duplicates; nil means default
}

// NewTeams returns the Teams of namespaces, which must be valid namespaces
// (in any case) and at least one.
func NewTeams(namespaces []string) (Teams, error) {
	if len(namespaces) == 0 {
		return Teams{}, fmt.Errorf("must list at least one namespace")
	}
	var t Teams
	for _, ns := range namespaces {
		lower := strings.ToLower(ns)
		if !validNamespace(lower) {
			return Teams{}, fmt.Errorf("%q is not a namespace (a DNS-1123 label such as default)", ns)
		}
		t.namespaces = append(t.namespaces, lower)
	}
	slices.Sort(t.namespaces)
	t.namespaces = slices.Compact(t.namespaces)
	return t, nil
}

// Namespaces lists the namespaces that make teams, sorted.
func (t Teams) Namespaces() []string {
	if t.namespaces == nil {
		return []string{DefaultNamespace}
	}
	return slices.Clone(t.namespaces)
}

func (t Teams) makesTeams(ns string) bool {
	if t.namespaces == nil {
		return ns == DefaultNamespace
	}
	_, found := slices.BinarySearch(t.namespaces, ns)
	return found
}

// Owner returns the team an owner names: `team-orders`, `group:team-orders`
// and `group:default/team-orders` all name team-orders (an owner is a group
// unless it says `user:`). The team names a Kubernetes namespace and an API
// resource (`teams/{team}`), so it must be a DNS-1123 label once lowercased;
// and the owner's namespace must be one that makes teams.
func (t Teams) Owner(owner string) (string, error) {
	if owner == "" {
		return "", fmt.Errorf("is required")
	}
	r, ok := Canonical(owner, "group")
	if !ok {
		return "", fmt.Errorf("must be a team name or an entity reference such as `group:default/team-orders`")
	}
	if r.Kind != "group" && r.Kind != "user" {
		return "", fmt.Errorf("must refer to a group or a user, not a %s", r.Kind)
	}
	if !t.makesTeams(r.Namespace) {
		return "", fmt.Errorf("is in namespace %q, which makes no teams: only groups and users of namespace %s do (auth.teamNamespaces)",
			r.Namespace, strings.Join(t.Namespaces(), ", "))
	}
	if len(r.Name) > 63 || !dns1123Label.MatchString(r.Name) {
		return "", fmt.Errorf("team %q must be a DNS-1123 label (letters, digits and '-'), since it names the team's namespace", r.Name)
	}
	return r.Name, nil
}

// Group returns the team a canonical group reference makes, if any: ref
// must be a group of a namespace that makes teams, with a name that can be
// a team's.
func (t Teams) Group(ref Ref) (string, bool) {
	if ref.Kind != "group" {
		return "", false
	}
	team, err := t.Owner(ref.String())
	return team, err == nil
}

// Team is Owner under the zero Teams, which makes teams of namespace
// `default` only. Code that has Cairn's configuration uses its Teams.
func Team(owner string) (string, error) { return Teams{}.Owner(owner) }
