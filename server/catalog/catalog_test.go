package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/cairn-dev/cairn/server/apierr"
	"github.com/cairn-dev/cairn/server/auth"
	"github.com/cairn-dev/cairn/server/entityref"
	"github.com/cairn-dev/cairn/store"
	"github.com/cairn-dev/cairn/store/sqlite"
)

func newCatalog(t *testing.T) *Catalog {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	return New(st, entityref.Teams{})
}

// adminContext is the context of a call by an admin, who may change every
// team's services.
func adminContext() context.Context {
	return auth.NewContext(context.Background(), &auth.Principal{Name: "admin", Roles: []auth.Role{auth.RoleAdmin}, AllTeams: true})
}

func seedCatalogInfo(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile("../../deploy/examples/catalog-info.yaml")
	require.NoError(t, err)
	return string(doc)
}

// componentYAML is a minimal valid document with one line replaced or added.
func componentYAML(replace map[string]string) string {
	lines := []string{
		"apiVersion: backstage.io/v1alpha1",
		"kind: Component",
		"metadata:",
		"  name: payments-api",
		"spec:",
		"  type: service",
		"  lifecycle: experimental",
		"  owner: group:default/team-payments",
	}
	for i, line := range lines {
		key := strings.TrimSpace(strings.SplitN(line, ":", 2)[0])
		if r, ok := replace[key]; ok {
			lines[i] = r
		}
	}
	return strings.Join(lines, "\n") + "\n" + replace["extra"]
}

func violationsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var apiErr *apierr.Error
	require.True(t, errors.As(err, &apiErr), "want an apierr.Error, got %v", err)
	require.Equal(t, codes.InvalidArgument, apiErr.Code)
	fields := map[string]string{}
	for _, v := range apiErr.Violations {
		fields[v.Field] = v.Description
	}
	return fields
}

func TestRegisterCatalogInfoKeepsEveryFieldOfTheSeedDocument(t *testing.T) {
	c := newCatalog(t)
	svc, created, err := c.RegisterCatalogInfo(adminContext(), seedCatalogInfo(t))
	require.NoError(t, err)
	require.True(t, created)

	require.Equal(t, "orders-service", svc.Name)
	require.Equal(t, "Takes and tracks customer orders", svc.Description)
	require.Equal(t, map[string]string{
		"cairn.dev/service":            "orders-service",
		"github.com/project-slug":      "company/orders-service",
		"backstage.io/techdocs-ref":    "dir:.",
		"backstage.io/source-template": "template:default/node-microservice",
		"argocd/app-name":              "orders-service",
		"grafana/dashboard-selector":   "service=orders-service",
	}, svc.Annotations)
	require.Equal(t, []string{"nodejs", "typescript"}, svc.Tags)
	require.Equal(t, []store.Link{{URL: "https://grafana.company.com/d/orders-service", Title: "Grafana Dashboard", Icon: "dashboard"}}, svc.Links)
	require.Equal(t, "service", svc.Type)
	require.Equal(t, "production", svc.Lifecycle)
	require.Equal(t, "team-orders", svc.Owner)
	require.Equal(t, "team-orders", svc.Team)
	require.Equal(t, "orders-platform", svc.System)
	require.Equal(t, []string{"orders-service-api"}, svc.ProvidesAPIs)
	require.True(t, svc.GoldenPath)
	require.Equal(t, "template:default/node-microservice", svc.SourceTemplate)

	got, err := c.Get(adminContext(), "orders-service")
	require.NoError(t, err)
	require.Equal(t, svc, got)
}

func TestRegisterIsAnUpsertByName(t *testing.T) {
	c := newCatalog(t)
	ctx := adminContext()
	first, created, err := c.RegisterCatalogInfo(ctx, componentYAML(nil))
	require.NoError(t, err)
	require.True(t, created)

	again, created, err := c.RegisterCatalogInfo(ctx, componentYAML(nil))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, again, "identical content changes nothing")

	changed, created, err := c.RegisterCatalogInfo(ctx, componentYAML(map[string]string{"lifecycle": "  lifecycle: production"}))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, "production", changed.Lifecycle)
	require.Equal(t, first.CreateTime, changed.CreateTime)
	require.NotEqual(t, first.Etag, changed.Etag)
}

func TestRegisterCatalogInfoRejectsBadDocumentsWithEveryViolation(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // the violated fields, all of them
	}{
		{
			name: "a name that is not a DNS-1123 label",
			doc:  componentYAML(map[string]string{"name": "  name: Payments_API"}),
			want: []string{"catalog_info_yaml.metadata.name"},
		},
		{
			name: "a name too long for the objects derived from it",
			doc:  componentYAML(map[string]string{"name": "  name: " + strings.Repeat("a", MaxNameLength+1)}),
			want: []string{"catalog_info_yaml.metadata.name"},
		},
		{
			name: "an empty owner",
			doc:  componentYAML(map[string]string{"owner": `  owner: ""`}),
			want: []string{"catalog_info_yaml.spec.owner"},
		},
		{
			name: "an owner that is not a group or user",
			doc:  componentYAML(map[string]string{"owner": "  owner: component:default/payments"}),
			want: []string{"catalog_info_yaml.spec.owner"},
		},
		{
			name: "an entity of the wrong kind",
			doc:  componentYAML(map[string]string{"kind": "kind: API"}),
			want: []string{"catalog_info_yaml.kind"},
		},
		{
			name: "an unknown apiVersion",
			doc:  componentYAML(map[string]string{"apiVersion": "apiVersion: backstage.io/v2"}),
			want: []string{"catalog_info_yaml.apiVersion"},
		},
		{
			name: "several problems at once",
			doc: componentYAML(map[string]string{
				"kind": "kind: Group", "name": "  name: -bad-\n  tags: [Bad Tag, ok]", "type": "  type: ''",
			}),
			want: []string{
				"catalog_info_yaml.kind", "catalog_info_yaml.metadata.name",
				"catalog_info_yaml.spec.type", "catalog_info_yaml.metadata.tags[0]",
			},
		},
		{
			name: "a link that is not an absolute URL",
			doc:  componentYAML(map[string]string{"name": "  name: payments-api\n  links: [{url: /relative}]"}),
			want: []string{"catalog_info_yaml.metadata.links[0].url"},
		},
		{
			name: "a javascript: link, which would run in the portal of whoever clicks it",
			doc:  componentYAML(map[string]string{"name": "  name: payments-api\n  links: [{url: 'javascript://example.com/%0aalert(1)'}, {url: 'data://x/text/html,hi'}, {url: 'https://ok.example.com'}]"}),
			want: []string{"catalog_info_yaml.metadata.links[0].url", "catalog_info_yaml.metadata.links[1].url"},
		},
		{
			name: "text that is not YAML",
			doc:  "kind: [unclosed",
			want: []string{"catalog_info_yaml"},
		},
		{
			name: "fields of the wrong type",
			doc:  componentYAML(map[string]string{"extra": "  providesApis: {a: b}\n"}),
			want: []string{"catalog_info_yaml"},
		},
		{
			name: "NUL characters in free text",
			doc:  componentYAML(map[string]string{"name": "  name: payments-api\n  description: \"a\\0b\"\n  annotations: {note: \"x\\0\"}"}),
			want: []string{"catalog_info_yaml.metadata.description", "catalog_info_yaml.metadata.annotations[note]"},
		},
		{
			name: "two documents",
			doc:  componentYAML(nil) + "---\n" + componentYAML(nil),
			want: []string{"catalog_info_yaml"},
		},
		{
			name: "an empty document",
			doc:  "  \n",
			want: []string{"catalog_info_yaml"},
		},
		{
			name: "a namespace other than default",
			doc:  componentYAML(map[string]string{"name": "  name: payments-api\n  namespace: staging"}),
			want: []string{"catalog_info_yaml.metadata.namespace"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatalog(t)
			ctx := adminContext()
			_, _, err := c.RegisterCatalogInfo(ctx, tt.doc)
			fields := violationsOf(t, err)
			for _, f := range tt.want {
				require.Contains(t, fields, f)
			}
			require.Len(t, fields, len(tt.want), "violations: %v", fields)

			services, _, err := c.List(ctx, ListQuery{})
			require.NoError(t, err)
			require.Empty(t, services, "a refused registration stores nothing")
		})
	}
}

func TestRegisterStructuredChecksTheEtag(t *testing.T) {
	c := newCatalog(t)
	ctx := adminContext()
	svc := &store.Service{Name: "billing", Type: "service", Lifecycle: "production", Owner: "team-billing"}
	stored, created, err := c.Register(ctx, svc, "")
	require.NoError(t, err)
	require.True(t, created)

	_, _, err = c.Register(ctx, &store.Service{Name: "billing", Type: "service", Lifecycle: "deprecated", Owner: "team-billing"}, "stale")
	var apiErr *apierr.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, codes.Aborted, apiErr.Code)

	updated, _, err := c.Register(ctx, &store.Service{Name: "billing", Type: "service", Lifecycle: "deprecated", Owner: "team-billing"}, stored.Etag)
	require.NoError(t, err)
	require.Equal(t, "deprecated", updated.Lifecycle)
}

func TestDeleteAndGetOfAMissingServiceAreNotFound(t *testing.T) {
	c := newCatalog(t)
	ctx := adminContext()
	var apiErr *apierr.Error
	_, err := c.Get(ctx, "ghost")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, codes.NotFound, apiErr.Code)
	require.ErrorAs(t, c.Delete(ctx, "ghost", ""), &apiErr)
	require.Equal(t, codes.NotFound, apiErr.Code)
}

func TestListPagesReturnEachServiceOnceAndRefuseTokensOfOtherFilters(t *testing.T) {
	c := newCatalog(t)
	ctx := adminContext()
	for i := range 25 {
		team := "team-a"
		if i%2 == 1 {
			team = "team-b"
		}
		_, _, err := c.Register(ctx, &store.Service{Name: fmt.Sprintf("svc-%02d", i), Type: "service", Lifecycle: "production", Owner: team}, "")
		require.NoError(t, err)
	}

	seen := map[string]int{}
	token := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 10, "paging does not end")
		services, next, err := c.List(ctx, ListQuery{Owner: "group:default/team-a", PageSize: 5, PageToken: token})
		require.NoError(t, err)
		for _, s := range services {
			require.Equal(t, "team-a", s.Team)
			seen[s.Name]++
		}
		if next == "" {
			break
		}
		token = next
	}
	require.Len(t, seen, 13)
	for name, n := range seen {
		require.Equal(t, 1, n, name)
	}

	_, next, err := c.List(ctx, ListQuery{Owner: "team-a", PageSize: 5})
	require.NoError(t, err)
	_, _, err = c.List(ctx, ListQuery{Owner: "team-b", PageSize: 5, PageToken: next})
	require.Contains(t, violationsOf(t, err), "page_token")
}

func TestListTeamsCountsServicesAndGoldenPaths(t *testing.T) {
	c := newCatalog(t)
	ctx := adminContext()
	_, _, err := c.RegisterCatalogInfo(ctx, seedCatalogInfo(t))
	require.NoError(t, err)
	_, _, err = c.Register(ctx, &store.Service{Name: "orders-worker", Type: "service", Lifecycle: "production", Owner: "group:team-orders"}, "")
	require.NoError(t, err)
	_, _, err = c.RegisterCatalogInfo(ctx, componentYAML(nil))
	require.NoError(t, err)

	teams, next, err := c.ListTeams(ctx, 0, "")
	require.NoError(t, err)
	require.Empty(t, next)
	require.Equal(t, []store.Team{
		{Name: "team-orders", ServiceCount: 2, GoldenPathServiceCount: 1},
		{Name: "team-payments", ServiceCount: 1, GoldenPathServiceCount: 0},
	}, teams)
}

func FuzzParseCatalogInfo(f *testing.F) {
	f.Add(componentYAML(nil))
	f.Add("kind: [")
	f.Add("a: &a [*a, *a]")
	f.Add(componentYAML(map[string]string{"extra": "  links: [{url: 'http://x'}]\n"}))
	f.Fuzz(func(t *testing.T, doc string) {
		svc, v := parseCatalogInfo(doc, entityref.Teams{})
		if len(v) == 0 {
			// Whatever is accepted must pass the same rules as structured input.
			require.Empty(t, validateService(svc, protoPaths, entityref.Teams{}))
		}
	})
}

func TestADeveloperChangesOnlyTheirOwnTeamsServices(t *testing.T) {
	c := newCatalog(t)
	_, _, err := c.Register(adminContext(), &store.Service{Name: "billing", Type: "service", Lifecycle: "production", Owner: "team-billing"}, "")
	require.NoError(t, err)
	developer := auth.NewContext(context.Background(), &auth.Principal{
		Name: "user:default/jane", Roles: []auth.Role{auth.RoleDeveloper}, Teams: []string{"team-orders"},
	})
	denied := func(err error) {
		t.Helper()
		var apiErr *apierr.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, codes.PermissionDenied, apiErr.Code)
	}

	_, _, err = c.Register(developer, &store.Service{Name: "orders", Type: "service", Lifecycle: "production", Owner: "team-orders"}, "")
	require.NoError(t, err, "their own team")
	_, _, err = c.Register(developer, &store.Service{Name: "payments", Type: "service", Lifecycle: "production", Owner: "team-payments"}, "")
	denied(err)
	_, _, err = c.Register(developer, &store.Service{Name: "billing", Type: "service", Lifecycle: "production", Owner: "team-orders"}, "")
	denied(err) // taking over another team's service
	_, _, err = c.Register(developer, &store.Service{Name: "orders", Type: "service", Lifecycle: "production", Owner: "team-billing"}, "")
	denied(err) // giving their service away
	denied(c.Delete(developer, "billing", ""))
	require.NoError(t, c.Delete(developer, "orders", ""))
	denied(c.Delete(context.Background(), "billing", ""))
}

func TestOwnersMakeTeamsOnlyInTeamNamespaces(t *testing.T) {
	sandbox, err := entityref.NewTeams([]string{"default", "sandbox"})
	require.NoError(t, err)
	tests := []struct {
		name    string
		teams   entityref.Teams
		owner   string
		team    string
		wantErr string
	}{
		{"a group of namespace default", entityref.Teams{}, "group:default/team-b", "team-b", ""},
		{"an owner in another case is the same team", entityref.Teams{}, "Group:Default/Team-B", "team-b", ""},
		{"a group of another namespace is refused, naming the team namespaces", entityref.Teams{}, "group:sandbox/team-b",
			"", `is in namespace "sandbox", which makes no teams: only groups and users of namespace default do`},
		{"a listed namespace makes the same team", sandbox, "group:sandbox/team-b", "team-b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCatalog(t)
			c.teams = tt.teams
			svc, _, err := c.Register(adminContext(), &store.Service{Name: "svc-b1", Type: "service", Lifecycle: "production", Owner: tt.owner}, "")
			doc, _, docErr := c.RegisterCatalogInfo(adminContext(), componentYAML(map[string]string{"owner": "  owner: " + tt.owner}))
			services, _, listErr := c.List(adminContext(), ListQuery{Owner: tt.owner})
			if tt.wantErr != "" {
				require.Contains(t, violationsOf(t, err)["service.owner"], tt.wantErr)
				require.Contains(t, violationsOf(t, docErr)["catalog_info_yaml.spec.owner"], tt.wantErr)
				require.Contains(t, violationsOf(t, listErr)["owner"], tt.wantErr)
				_, getErr := c.Get(adminContext(), "svc-b1")
				require.Error(t, getErr, "nothing was registered")
				return
			}
			require.NoError(t, err)
			require.NoError(t, docErr)
			require.NoError(t, listErr)
			require.Equal(t, tt.team, svc.Team)
			require.Equal(t, tt.team, doc.Team)
			require.Len(t, services, 2)
		})
	}
}

func TestADeletedNameStaysWithItsTeamUnlessAnAdminTransfersIt(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cairn.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	require.NoError(t, st.Migrate(ctx))
	c := New(st, entityref.Teams{})
	developerOf := func(team string) context.Context {
		return auth.NewContext(ctx, &auth.Principal{Name: team + "-ci", Roles: []auth.Role{auth.RoleDeveloper}, Teams: []string{team}})
	}
	service := func(owner string) *store.Service {
		return &store.Service{Name: "svc-b1", Type: "service", Lifecycle: "production", Owner: owner}
	}
	_, _, err = c.Register(developerOf("team-b"), service("team-b"), "")
	require.NoError(t, err)
	require.NoError(t, c.Delete(developerOf("team-b"), "svc-b1", ""))

	_, _, err = c.Register(developerOf("team-a"), service("team-a"), "")
	var apiErr *apierr.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, codes.FailedPrecondition, apiErr.Code)
	require.Equal(t, "SERVICE_NAME_RETIRED", apiErr.Reason)
	require.Equal(t, map[string]string{"service": "svc-b1", "team": "team-b"}, apiErr.Metadata)
	require.Contains(t, apiErr.Message, `team "team-b"`)
	_, err = c.Get(ctx, "svc-b1")
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, codes.NotFound, apiErr.Code, "the refused register wrote nothing")
	events, err := st.ListAuditEvents(ctx, store.AuditFilter{}, 0, 10)
	require.NoError(t, err)
	require.Empty(t, events)

	_, created, err := c.Register(adminContext(), service("team-a"), "")
	require.NoError(t, err)
	require.True(t, created)
	events, err = st.ListAuditEvents(ctx, store.AuditFilter{}, 0, 10)
	require.NoError(t, err)
	require.Len(t, events, 1)
	require.Equal(t, store.AuditEvent{
		ID: events[0].ID, Time: events[0].Time, Principal: "admin",
		Action: `TransferServiceName from team "team-b" to team "team-a"`, Target: "services/svc-b1",
		Outcome: "succeeded", Code: "OK",
	}, events[0])

	// Now team-a's: it deletes and registers it again as any team does.
	require.NoError(t, c.Delete(developerOf("team-a"), "svc-b1", ""))
	_, created, err = c.Register(developerOf("team-a"), service("team-a"), "")
	require.NoError(t, err)
	require.True(t, created)
}
