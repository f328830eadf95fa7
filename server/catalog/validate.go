package catalog

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// MaxNameLength bounds service names below the 63 characters of a DNS-1123
// label, so that every Kubernetes object Cairn derives from a service
// (`{name}-production`, `{name}-bucket`, and the suffixes Crossplane adds to
// composite resources) is still a valid name.
const MaxNameLength = 40

// Bounds on the free-form parts of a catalog entry.
const (
	maxTitleLength       = 253
	maxDescriptionLength = 4096
	maxWordLength        = 63 // spec.type, spec.lifecycle
	maxListLength        = 100
	maxMapEntries        = 100
	maxAnnotationValue   = 4096
	maxURLLength         = 2048
)

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// Backstage's own tag rule: lowercase words of [a-z0-9:+#] joined by dashes.
	backstageTag = regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`)
	// Kubernetes-style qualified keys, as Backstage uses for labels and
	// annotations: an optional DNS prefix and a name.
	qualifiedKey = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
	word         = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*$`)
)

// fieldPaths names a service's fields in the caller's terms: Backstage's
// YAML paths for catalog-info documents, the proto's for structured input.
type fieldPaths struct {
	name, title, description, labels, annotations, tags, links           string
	typ, lifecycle, owner, system, providesAPIs, consumesAPIs, dependsOn string
}

var yamlPaths = fieldPaths{
	name: "catalog_info_yaml.metadata.name", title: "catalog_info_yaml.metadata.title",
	description: "catalog_info_yaml.metadata.description", labels: "catalog_info_yaml.metadata.labels",
	annotations: "catalog_info_yaml.metadata.annotations", tags: "catalog_info_yaml.metadata.tags",
	links: "catalog_info_yaml.metadata.links", typ: "catalog_info_yaml.spec.type",
	lifecycle: "catalog_info_yaml.spec.lifecycle", owner: "catalog_info_yaml.spec.owner",
	system: "catalog_info_yaml.spec.system", providesAPIs: "catalog_info_yaml.spec.providesApis",
	consumesAPIs: "catalog_info_yaml.spec.consumesApis", dependsOn: "catalog_info_yaml.spec.dependsOn",
}

var protoPaths = fieldPaths{
	name: "service.name", title: "service.title", description: "service.description",
	labels: "service.labels", annotations: "service.annotations", tags: "service.tags",
	links: "service.links", typ: "service.type", lifecycle: "service.lifecycle",
	owner: "service.owner", system: "service.system", providesAPIs: "service.provides_apis",
	consumesAPIs: "service.consumes_apis", dependsOn: "service.depends_on",
}

// violations collects field violations in the order they are found.
type violations []apierr.FieldViolation

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, apierr.FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// validateService checks everything a catalog entry must satisfy, and
// reports every problem at once. Its owner must make one of teams.
func validateService(s *store.Service, p fieldPaths, teams entityref.Teams) violations {
	var v violations
	validateName(&v, p.name, s.Name)
	validateText(&v, p.title, s.Title, maxTitleLength)
	validateText(&v, p.description, s.Description, maxDescriptionLength)
	validateKeyedMap(&v, p.labels, s.Labels, maxWordLength)
	validateKeyedMap(&v, p.annotations, s.Annotations, maxAnnotationValue)
	validateTags(&v, p.tags, s.Tags)
	validateLinks(&v, p.links, s.Links)
	validateWord(&v, p.typ, s.Type)
	validateWord(&v, p.lifecycle, s.Lifecycle)
	if _, err := teams.Owner(s.Owner); err != nil {
		v.add(p.owner, "%v", err)
	}
	if s.System != "" && !validRef(s.System) {
		v.add(p.system, "must be an entity reference such as `orders-platform` or `system:default/orders-platform`")
	}
	validateRefs(&v, p.providesAPIs, s.ProvidesAPIs)
	validateRefs(&v, p.consumesAPIs, s.ConsumesAPIs)
	validateRefs(&v, p.dependsOn, s.DependsOn)
	return v
}

func validateName(v *violations, field, name string) {
	switch {
	case name == "":
		v.add(field, "is required")
	case len(name) > MaxNameLength:
		v.add(field, "must be at most %d characters, so that the Kubernetes objects named after it stay valid", MaxNameLength)
	case !dns1123Label.MatchString(name):
		v.add(field, "must be a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit")
	}
}

// validateText checks free text. NUL is refused: PostgreSQL cannot store it,
// and every engine must accept the same input.
func validateText(v *violations, field, text string, maxLength int) {
	switch {
	case len(text) > maxLength:
		v.add(field, "must be at most %d bytes", maxLength)
	case strings.ContainsRune(text, 0):
		v.add(field, "must not contain NUL characters")
	}
}

func validateWord(v *violations, field, value string) {
	switch {
	case value == "":
		v.add(field, "is required")
	case len(value) > maxWordLength || !word.MatchString(value):
		v.add(field, "must be a single word of letters, digits, '-', '_' or '.', at most %d characters", maxWordLength)
	}
}

func validateKeyedMap(v *violations, field string, m map[string]string, maxValue int) {
	if len(m) > maxMapEntries {
		v.add(field, "must have at most %d entries", maxMapEntries)
		return
	}
	for _, key := range slices.Sorted(maps.Keys(m)) {
		if !qualifiedKey.MatchString(key) {
			v.add(field+"["+key+"]", "key must be an optional DNS prefix and '/', then a name of at most 63 characters")
		} else {
			validateText(v, field+"["+key+"]", m[key], maxValue)
		}
	}
}

func validateTags(v *violations, field string, tags []string) {
	if len(tags) > maxListLength {
		v.add(field, "must have at most %d entries", maxListLength)
		return
	}
	for i, tag := range tags {
		if len(tag) > maxWordLength || !backstageTag.MatchString(tag) {
			v.add(fmt.Sprintf("%s[%d]", field, i), "must be lowercase words of a-z, 0-9, ':', '+' or '#' joined by '-', at most %d characters", maxWordLength)
		}
	}
}

func validateLinks(v *violations, field string, links []store.Link) {
	if len(links) > maxListLength {
		v.add(field, "must have at most %d entries", maxListLength)
		return
	}
	for i, link := range links {
		at := fmt.Sprintf("%s[%d]", field, i)
		u, err := url.Parse(link.URL)
		switch {
		case link.URL == "":
			v.add(at+".url", "is required")
		case len(link.URL) > maxURLLength || err != nil || !u.IsAbs() || u.Host == "":
			v.add(at+".url", "must be an absolute URL of at most %d bytes", maxURLLength)
		case u.Scheme != "http" && u.Scheme != "https":
			// Backstage renders links as anchors: a javascript: or data:
			// URL would run in the portal of whoever clicks it.
			v.add(at+".url", "must be an http or https URL")
		}
		validateText(v, at+".title", link.Title, maxTitleLength)
		validateText(v, at+".icon", link.Icon, maxWordLength)
		validateText(v, at+".type", link.Type, maxWordLength)
	}
}

func validateRefs(v *violations, field string, refs []string) {
	if len(refs) > maxListLength {
		v.add(field, "must have at most %d entries", maxListLength)
		return
	}
	for i, ref := range refs {
		if !validRef(ref) {
			v.add(fmt.Sprintf("%s[%d]", field, i), "must be an entity reference such as `orders-api` or `api:default/orders-api`")
		}
	}
}

func validRef(ref string) bool {
	_, ok := entityref.Parse(ref)
	return ok
}
