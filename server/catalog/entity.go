package catalog

import (
	"errors"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
)

// SourceTemplateAnnotation is set by Backstage's scaffolder on entities made
// from a software template; its presence marks a golden-path service.
const SourceTemplateAnnotation = "backstage.io/source-template"

// entity is the part of a Backstage catalog-info.yaml document Cairn keeps.
// Other fields are allowed (Backstage has many) and ignored.
type entity struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Namespace   string            `yaml:"namespace"`
		Title       string            `yaml:"title"`
		Description string            `yaml:"description"`
		Labels      map[string]string `yaml:"labels"`
		Annotations map[string]string `yaml:"annotations"`
		Tags        []string          `yaml:"tags"`
		Links       []struct {
			URL   string `yaml:"url"`
			Title string `yaml:"title"`
			Icon  string `yaml:"icon"`
			Type  string `yaml:"type"`
		} `yaml:"links"`
	} `yaml:"metadata"`
	Spec struct {
		Type         string   `yaml:"type"`
		Lifecycle    string   `yaml:"lifecycle"`
		Owner        string   `yaml:"owner"`
		System       string   `yaml:"system"`
		ProvidesAPIs []string `yaml:"providesApis"`
		ConsumesAPIs []string `yaml:"consumesApis"`
		DependsOn    []string `yaml:"dependsOn"`
	} `yaml:"spec"`
}

// Backstage's catalog model versions that describe a Component.
var supportedAPIVersions = []string{"backstage.io/v1alpha1", "backstage.io/v1beta1"}

// parseCatalogInfo reads one Component from a catalog-info.yaml document. It
// returns every problem it finds as field violations rather than stopping at
// the first.
func parseCatalogInfo(doc string, teams entityref.Teams) (*store.Service, violations) {
	const field = "catalog_info_yaml"
	var v violations
	if strings.TrimSpace(doc) == "" {
		v.add(field, "is required")
		return nil, v
	}
	dec := yaml.NewDecoder(strings.NewReader(doc))
	var e entity
	if err := dec.Decode(&e); err != nil {
		v.add(field, "is not a valid catalog-info document: %s", yamlError(err))
		return nil, v
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		v.add(field, "must hold exactly one entity; register each document separately")
	}
	if !slices.Contains(supportedAPIVersions, e.APIVersion) {
		v.add(field+".apiVersion", "must be one of %s", strings.Join(supportedAPIVersions, ", "))
	}
	if e.Kind != "Component" {
		v.add(field+".kind", "must be Component, not %q: Cairn's catalog holds services", e.Kind)
	}
	if e.Metadata.Namespace != "" && e.Metadata.Namespace != "default" {
		v.add(field+".metadata.namespace", "must be default or absent: Cairn's catalog holds the default namespace")
	}
	svc := &store.Service{
		Name:         e.Metadata.Name,
		Title:        e.Metadata.Title,
		Description:  e.Metadata.Description,
		Labels:       e.Metadata.Labels,
		Annotations:  e.Metadata.Annotations,
		Tags:         e.Metadata.Tags,
		Type:         e.Spec.Type,
		Lifecycle:    e.Spec.Lifecycle,
		Owner:        e.Spec.Owner,
		System:       e.Spec.System,
		ProvidesAPIs: e.Spec.ProvidesAPIs,
		ConsumesAPIs: e.Spec.ConsumesAPIs,
		DependsOn:    e.Spec.DependsOn,
	}
	for _, l := range e.Metadata.Links {
		svc.Links = append(svc.Links, store.Link{URL: l.URL, Title: l.Title, Icon: l.Icon, Type: l.Type})
	}
	return svc, append(v, validateService(svc, yamlPaths, teams)...)
}

// yamlError puts the YAML library's message on one line.
func yamlError(err error) string {
	lines := strings.Split(strings.TrimPrefix(err.Error(), "yaml: "), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
