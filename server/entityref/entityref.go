// Package entityref reads Backstage entity references, `[kind:][namespace/]name`,
// as they appear in catalog-info.yaml owners and in Backstage user tokens'
// ownership claims, and the team names Cairn derives from them.
package entityref

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxLength bounds a reference.
const MaxLength = 253

var (
	ref          = regexp.MustCompile(`^(?:([A-Za-z][A-Za-z0-9]*):)?(?:([a-z0-9][-a-z0-9]*)/)?([A-Za-z0-9][-A-Za-z0-9_.]*)$`)
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// Ref is a parsed entity reference. Kind is lowercased; Kind and Namespace
// are empty when the reference leaves them out.
type Ref struct {
	Kind, Namespace, Name string
}

// Parse reads an entity reference.
func Parse(s string) (Ref, bool) {
	m := ref.FindStringSubmatch(s)
	if m == nil || len(s) > MaxLength {
		return Ref{}, false
	}
	return Ref{Kind: strings.ToLower(m[1]), Namespace: m[2], Name: m[3]}, true
}

// Team returns the team an owner reference names: the name part of
// `team-orders`, `group:team-orders` or `group:default/team-orders` (a user
// may own services too). The team names a Kubernetes namespace and an API
// resource (`teams/{team}`), so it must be a DNS-1123 label.
func Team(owner string) (string, error) {
	if owner == "" {
		return "", fmt.Errorf("is required")
	}
	r, ok := Parse(owner)
	if !ok {
		return "", fmt.Errorf("must be a team name or an entity reference such as `group:default/team-orders`")
	}
	if r.Kind != "" && r.Kind != "group" && r.Kind != "user" {
		return "", fmt.Errorf("must refer to a group or a user, not a %s", r.Kind)
	}
	if len(r.Name) > 63 || !dns1123Label.MatchString(r.Name) {
		return "", fmt.Errorf("team %q must be a DNS-1123 label (lowercase letters, digits and '-'), since it names the team's namespace", r.Name)
	}
	return r.Name, nil
}
