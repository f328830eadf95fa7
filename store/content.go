package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// serviceContent is what a client can set on a service: everything except
// the timestamps and etag the store maintains. Nil and empty collections are
// the same content.
type serviceContent struct {
	Name           string            `json:"name"`
	Title          string            `json:"title"`
	Description    string            `json:"description"`
	Labels         map[string]string `json:"labels"`
	Annotations    map[string]string `json:"annotations"`
	Tags           []string          `json:"tags"`
	Links          []Link            `json:"links"`
	Type           string            `json:"type"`
	Lifecycle      string            `json:"lifecycle"`
	Owner          string            `json:"owner"`
	Team           string            `json:"team"`
	System         string            `json:"system"`
	ProvidesAPIs   []string          `json:"providesApis"`
	ConsumesAPIs   []string          `json:"consumesApis"`
	DependsOn      []string          `json:"dependsOn"`
	GoldenPath     bool              `json:"goldenPath"`
	SourceTemplate string            `json:"sourceTemplate"`
}

func contentOf(s *Service) serviceContent {
	return serviceContent{
		Name: s.Name, Title: s.Title, Description: s.Description,
		Labels: orEmptyMap(s.Labels), Annotations: orEmptyMap(s.Annotations),
		Tags: orEmpty(s.Tags), Links: orEmpty(s.Links),
		Type: s.Type, Lifecycle: s.Lifecycle, Owner: s.Owner, Team: s.Team, System: s.System,
		ProvidesAPIs: orEmpty(s.ProvidesAPIs), ConsumesAPIs: orEmpty(s.ConsumesAPIs),
		DependsOn: orEmpty(s.DependsOn), GoldenPath: s.GoldenPath, SourceTemplate: s.SourceTemplate,
	}
}

// SameContent reports whether a and b differ only in what the store
// maintains (timestamps and etag).
func SameContent(a, b *Service) bool {
	return bytes.Equal(canonical(a), canonical(b))
}

// ContentEtag is the etag of a service's content: equal content, equal etag,
// whichever engine stores it.
func ContentEtag(s *Service) string {
	sum := sha256.Sum256(canonical(s))
	return hex.EncodeToString(sum[:8])
}

// CheckIfMatch enforces a write's ifMatch, as CatalogStore's methods define
// it, against the stored service, nil when there is none: nil when ifMatch
// is empty or equals the stored etag, else ErrNotFound or ErrEtagMismatch.
func CheckIfMatch(ifMatch string, stored *Service) error {
	switch {
	case ifMatch == "":
		return nil
	case stored == nil:
		return ErrNotFound
	case ifMatch != stored.Etag:
		return ErrEtagMismatch
	default:
		return nil
	}
}

// canonical encodes a service's content. Marshalling strings, maps and
// slices cannot fail, and map keys come out sorted.
func canonical(s *Service) []byte {
	b, _ := json.Marshal(contentOf(s))
	return b
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func orEmptyMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
