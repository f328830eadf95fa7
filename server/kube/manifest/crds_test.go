package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// These tests read deploy/crds (the CRDs Cairn's objects are applied to) and
// deploy/crossplane (the Crossplane definitions those claim CRDs stand in
// for), check each lightly for the mistakes a kube-apiserver or Crossplane
// would refuse, check that the two agree, and check the objects Objects
// builds against the CRD schemas.

var deployDir = filepath.Join("..", "..", "..", "deploy")

type doc struct {
	file string
	obj  map[string]any
}

// readDocs parses every YAML document of every .yaml file under dir.
func readDocs(t *testing.T, dir string) []doc {
	t.Helper()
	var docs []doc
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".yaml" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var obj map[string]any
			err := dec.Decode(&obj)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if obj != nil {
				docs = append(docs, doc{file: path, obj: obj})
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, docs, "no YAML under %s", dir)
	return docs
}

func docsOfKind(t *testing.T, dir, kind string) []doc {
	var out []doc
	for _, d := range readDocs(t, dir) {
		if d.obj["kind"] == kind {
			out = append(out, d)
		}
	}
	require.NotEmpty(t, out, "no %s under %s", kind, dir)
	return out
}

// str and obj walk a parsed document; a missing or mistyped field gives the
// zero value, which the assertions then catch.
func str(m map[string]any, path ...string) string {
	s, _ := field(m, path...).(string)
	return s
}

func obj(m map[string]any, path ...string) map[string]any {
	o, _ := field(m, path...).(map[string]any)
	return o
}

func list(m map[string]any, path ...string) []any {
	l, _ := field(m, path...).([]any)
	return l
}

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[p]
	}
	return v
}

func TestEveryDeployFileIsAKubernetesObject(t *testing.T) {
	for _, dir := range []string{"crds", "crossplane"} {
		for _, d := range readDocs(t, filepath.Join(deployDir, dir)) {
			require.NotEmpty(t, str(d.obj, "apiVersion"), d.file)
			require.NotEmpty(t, str(d.obj, "kind"), d.file)
			require.NotEmpty(t, str(d.obj, "metadata", "name"), d.file)
		}
	}
}

func TestCRDsAreNamespacedStructuralAndHaveAStatusSubresource(t *testing.T) {
	for _, d := range readDocs(t, filepath.Join(deployDir, "crds")) {
		t.Run(filepath.Base(d.file), func(t *testing.T) {
			require.Equal(t, "apiextensions.k8s.io/v1", str(d.obj, "apiVersion"))
			require.Equal(t, "CustomResourceDefinition", str(d.obj, "kind"))
			name := str(d.obj, "metadata", "name")
			require.Equal(t, name+".yaml", filepath.Base(d.file), "one CRD per file, named after it")
			require.Equal(t, str(d.obj, "spec", "names", "plural")+"."+str(d.obj, "spec", "group"), name)
			require.Equal(t, "Namespaced", str(d.obj, "spec", "scope"))
			require.NotEmpty(t, str(d.obj, "spec", "names", "kind"))

			storage := 0
			for _, v := range list(d.obj, "spec", "versions") {
				v := v.(map[string]any)
				if v["storage"] == true {
					storage++
				}
				require.NotNil(t, obj(v, "subresources", "status"), "version %s has a status subresource", v["name"])
				root := obj(v, "schema", "openAPIV3Schema")
				require.Equal(t, "object", root["type"])
				require.Equal(t, map[string]any{"type": "object"}, obj(root, "properties", "metadata"),
					"metadata's schema may say no more than its type")
				require.Empty(t, structuralErrors(root, "openAPIV3Schema"))
			}
			require.Equal(t, 1, storage, "exactly one storage version")
		})
	}
}

func TestApplicationCRDStoresSpecStatusAndOperation(t *testing.T) {
	crd := findCRD(t, ApplicationKind.GroupVersionKind)
	require.Contains(t, list(crd, "spec", "names", "shortNames"), "app")
	root := versionSchema(t, crd, ArgoCDVersion)
	for _, f := range []string{"spec", "status", "operation"} {
		require.Equal(t, true, obj(root, "properties", f)["x-kubernetes-preserve-unknown-fields"], f)
	}
}

// The claim CRDs stand in for those Crossplane generates from the XRDs, so
// the XRDs' fields must be theirs too.
func TestClaimCRDsHaveTheXRDsFields(t *testing.T) {
	for _, xrd := range docsOfKind(t, filepath.Join(deployDir, "crossplane"), "CompositeResourceDefinition") {
		t.Run(str(xrd.obj, "metadata", "name"), func(t *testing.T) {
			require.Equal(t, "apiextensions.crossplane.io/v1", str(xrd.obj, "apiVersion"))
			require.Equal(t, str(xrd.obj, "spec", "names", "plural")+"."+str(xrd.obj, "spec", "group"),
				str(xrd.obj, "metadata", "name"))
			for _, v := range list(xrd.obj, "spec", "versions") {
				v := v.(map[string]any)
				gvk := schema.GroupVersionKind{
					Group:   str(xrd.obj, "spec", "group"),
					Version: v["name"].(string),
					Kind:    str(xrd.obj, "spec", "claimNames", "kind"),
				}
				crd := findCRD(t, gvk)
				require.Equal(t, str(xrd.obj, "spec", "claimNames", "plural"), str(crd, "spec", "names", "plural"))

				xrdRoot := obj(v, "schema", "openAPIV3Schema")
				require.Empty(t, structuralErrors(xrdRoot, "openAPIV3Schema"))
				crdRoot := versionSchema(t, crd, gvk.Version)
				for _, part := range []string{"spec", "status"} {
					want := obj(xrdRoot, "properties", part)
					got := obj(crdRoot, "properties", part)
					require.Equal(t, list(want, "required"), list(got, "required"), "%s required", part)
					require.Equal(t, want["default"], got["default"], "%s default", part)
					for name, prop := range obj(want, "properties") {
						require.Equal(t, withoutDescriptions(prop), withoutDescriptions(obj(got, "properties")[name]),
							"%s.%s differs between the XRD and the claim CRD", part, name)
					}
				}
			}
		})
	}
}

func TestCompositionsComposeAnXRDWithPatchAndTransform(t *testing.T) {
	xrds := map[string]map[string]any{} // "group/version, Kind" of the composite -> XRD
	for _, x := range docsOfKind(t, filepath.Join(deployDir, "crossplane"), "CompositeResourceDefinition") {
		for _, v := range list(x.obj, "spec", "versions") {
			gv := str(x.obj, "spec", "group") + "/" + v.(map[string]any)["name"].(string)
			xrds[gv+", "+str(x.obj, "spec", "names", "kind")] = x.obj
		}
	}
	for _, c := range docsOfKind(t, filepath.Join(deployDir, "crossplane"), "Composition") {
		t.Run(str(c.obj, "metadata", "name"), func(t *testing.T) {
			require.Equal(t, "apiextensions.crossplane.io/v1", str(c.obj, "apiVersion"))
			xrd := xrds[str(c.obj, "spec", "compositeTypeRef", "apiVersion")+", "+str(c.obj, "spec", "compositeTypeRef", "kind")]
			require.NotNil(t, xrd, "the composite type is defined by an XRD")
			require.Equal(t, str(c.obj, "metadata", "name"), str(xrd, "spec", "defaultCompositionRef", "name"),
				"the XRD's default composition")
			xrdSpec := obj(list(xrd, "spec", "versions")[0].(map[string]any), "schema", "openAPIV3Schema", "properties", "spec")

			require.Equal(t, "Pipeline", str(c.obj, "spec", "mode"))
			steps := list(c.obj, "spec", "pipeline")
			require.Len(t, steps, 1)
			step := steps[0].(map[string]any)
			require.Equal(t, "function-patch-and-transform", str(step, "functionRef", "name"))
			require.Equal(t, "pt.fn.crossplane.io/v1beta1", str(step, "input", "apiVersion"))
			require.Equal(t, "Resources", str(step, "input", "kind"))

			names := map[string]bool{}
			for _, r := range list(step, "input", "resources") {
				r := r.(map[string]any)
				name := str(r, "name")
				require.False(t, names[name], "resource %s named twice", name)
				names[name] = true
				require.NotEmpty(t, str(r, "base", "apiVersion"), name)
				require.NotEmpty(t, str(r, "base", "kind"), name)
				for _, p := range list(r, "patches") {
					checkPatch(t, name, p.(map[string]any), xrdSpec)
				}
				for _, cd := range list(r, "connectionDetails") {
					cd := cd.(map[string]any)
					require.Contains(t, list(xrd, "spec", "connectionSecretKeys"), str(cd, "name"),
						"%s: connection detail %s is a key the XRD declares", name, str(cd, "name"))
					require.Contains(t, []string{"FromConnectionSecretKey", "FromFieldPath", "FromValue"}, str(cd, "type"))
				}
			}
		})
	}
}

// checkPatch checks a patch's type and transforms, and that a map transform
// of an enum field of the XRD maps only values of that enum.
func checkPatch(t *testing.T, resource string, p, xrdSpec map[string]any) {
	t.Helper()
	typ := str(p, "type")
	require.Contains(t, []string{"FromCompositeFieldPath", "ToCompositeFieldPath"}, typ, resource)
	require.NotEmpty(t, str(p, "fromFieldPath"), resource)
	require.NotEmpty(t, str(p, "toFieldPath"), resource)
	for _, tr := range list(p, "transforms") {
		tr := tr.(map[string]any)
		switch str(tr, "type") {
		case "string":
			require.NotEmpty(t, str(tr, "string", "type"), "%s: function-patch-and-transform needs a string transform's type", resource)
		case "map":
			from, ok := strings.CutPrefix(str(p, "fromFieldPath"), "spec.")
			if !ok || typ != "FromCompositeFieldPath" {
				continue
			}
			enum := list(xrdSpec, "properties", from, "enum")
			for key := range obj(tr, "map") {
				if enum != nil {
					require.Contains(t, enum, key, "%s: map of %s", resource, from)
				}
			}
			if from == "size" {
				require.Len(t, obj(tr, "map"), len(enum), "%s: every size has an instance class", resource)
			}
		case "convert":
			require.NotEmpty(t, str(tr, "convert", "toType"), resource)
		default:
			t.Fatalf("%s: unexpected transform %v", resource, tr)
		}
	}
}

func TestDatabaseEnginesAndSizesAreTheCRDEnums(t *testing.T) {
	root := versionSchema(t, findCRD(t, DatabaseClaimKind(DefaultSettings()).GroupVersionKind), DefaultClaimVersion)
	spec := obj(root, "properties", "spec", "properties")
	require.Equal(t, toAny(DatabaseEngines), list(spec, "engine", "enum"))
	require.Equal(t, toAny(DatabaseSizes), list(spec, "size", "enum"))
	require.Equal(t, DefaultDatabaseVersion("postgresql"), obj(spec, "version")["default"])
	for _, engine := range DatabaseEngines {
		require.NotEmpty(t, DefaultDatabaseVersion(engine), engine)
	}
}

func TestObjectsMatchTheCRDs(t *testing.T) {
	for _, engine := range DatabaseEngines {
		for _, size := range DatabaseSizes {
			p := ordersPlan()
			p.Database, p.DatabaseSize = engine, size
			p.ReplicaCount = 3
			for _, o := range Objects(p, DefaultSettings()) {
				t.Run(engine+"/"+size+"/"+o.GetName(), func(t *testing.T) {
					requireMatchesCRD(t, o)
				})
			}
		}
	}
}

func requireMatchesCRD(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	gvk := o.GroupVersionKind()
	crd := findCRD(t, gvk)
	require.Equal(t, "Namespaced", str(crd, "spec", "scope"))
	require.NotEmpty(t, o.GetNamespace())
	root := versionSchema(t, crd, gvk.Version)
	content := maps.Clone(o.Object)
	content["metadata"] = map[string]any{} // the schema says only that it is an object
	require.Empty(t, schemaErrors(root, content, ""))
}

// findCRD returns the CRD in deploy/crds that serves gvk.
func findCRD(t *testing.T, gvk schema.GroupVersionKind) map[string]any {
	t.Helper()
	for _, d := range readDocs(t, filepath.Join(deployDir, "crds")) {
		if str(d.obj, "spec", "group") == gvk.Group && str(d.obj, "spec", "names", "kind") == gvk.Kind {
			return d.obj
		}
	}
	t.Fatalf("no CRD in deploy/crds for %s", gvk)
	return nil
}

func versionSchema(t *testing.T, crd map[string]any, version string) map[string]any {
	t.Helper()
	for _, v := range list(crd, "spec", "versions") {
		v := v.(map[string]any)
		if v["name"] == version {
			require.Equal(t, true, v["served"], "version %s is served", version)
			return obj(v, "schema", "openAPIV3Schema")
		}
	}
	t.Fatalf("CRD %s has no version %s", str(crd, "metadata", "name"), version)
	return nil
}

// structuralErrors finds what would make a schema non-structural to the
// kube-apiserver, lightly: a node without a type (unless it preserves
// unknown fields or is int-or-string), a default that does not fit its
// schema, a list-map key that items need not have.
func structuralErrors(s map[string]any, path string) []string {
	var errs []string
	typ, _ := s["type"].(string)
	if typ == "" && s["x-kubernetes-preserve-unknown-fields"] != true && s["x-kubernetes-int-or-string"] != true {
		errs = append(errs, path+": no type")
	}
	if def, ok := s["default"]; ok {
		bare := maps.Clone(s)
		delete(bare, "default")
		errs = append(errs, schemaErrors(bare, def, path+"(default)")...)
	}
	if s["x-kubernetes-list-type"] == "map" {
		required := list(s, "items", "required")
		for _, k := range list(s, "x-kubernetes-list-map-keys") {
			if !slices.Contains(required, k) {
				errs = append(errs, fmt.Sprintf("%s: list-map key %v is not required", path, k))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(obj(s, "properties"))) {
		errs = append(errs, structuralErrors(obj(s, "properties", name), path+"."+name)...)
	}
	if items := obj(s, "items"); items != nil {
		errs = append(errs, structuralErrors(items, path+"[]")...)
	}
	if ap := obj(s, "additionalProperties"); ap != nil {
		errs = append(errs, structuralErrors(ap, path+"{}")...)
	}
	return errs
}

// schemaErrors validates v against an OpenAPI v3 schema as far as Cairn's
// CRDs use it: type, enum, required, properties (unknown fields are errors
// unless preserved), additionalProperties and items.
func schemaErrors(s map[string]any, v any, path string) []string {
	if s["x-kubernetes-int-or-string"] == true {
		if !isInteger(v) {
			if _, ok := v.(string); !ok {
				return []string{fmt.Sprintf("%s: want an integer or a string, got %T", path, v)}
			}
		}
		return nil
	}
	if enum := list(s, "enum"); enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		return []string{fmt.Sprintf("%s: %v is not one of %v", path, v, enum)}
	}
	preserve := s["x-kubernetes-preserve-unknown-fields"] == true
	switch typ, _ := s["type"].(string); typ {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %T", path, v)}
		}
		var errs []string
		for _, r := range list(s, "required") {
			if _, ok := m[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s.%s: required", path, r))
			}
		}
		props, ap := obj(s, "properties"), obj(s, "additionalProperties")
		for _, k := range slices.Sorted(maps.Keys(m)) {
			switch {
			case props[k] != nil:
				errs = append(errs, schemaErrors(obj(props, k), m[k], path+"."+k)...)
			case ap != nil:
				errs = append(errs, schemaErrors(ap, m[k], path+"."+k)...)
			case !preserve:
				errs = append(errs, fmt.Sprintf("%s.%s: unknown field", path, k))
			}
		}
		return errs
	case "array":
		l, ok := v.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an array, got %T", path, v)}
		}
		var errs []string
		for i, item := range l {
			errs = append(errs, schemaErrors(obj(s, "items"), item, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case "string":
		if _, ok := v.(string); !ok {
			return []string{fmt.Sprintf("%s: want a string, got %T", path, v)}
		}
	case "integer":
		if !isInteger(v) {
			return []string{fmt.Sprintf("%s: want an integer, got %T", path, v)}
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return []string{fmt.Sprintf("%s: want a boolean, got %T", path, v)}
		}
	case "":
		if !preserve {
			return []string{path + ": schema has no type"}
		}
	default:
		return []string{fmt.Sprintf("%s: type %s is not checked here", path, typ)}
	}
	return nil
}

func isInteger(v any) bool {
	switch n := v.(type) {
	case int, int32, int64:
		return true
	case float64:
		return n == float64(int64(n))
	}
	return false
}

func withoutDescriptions(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			if k != "description" {
				out[k] = withoutDescriptions(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = withoutDescriptions(e)
		}
		return out
	}
	return v
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// The validator must catch what it is here for, or the tests above prove
// nothing.
func TestSchemaErrorsCatchWrongObjects(t *testing.T) {
	root := versionSchema(t, findCRD(t, DatabaseClaimKind(DefaultSettings()).GroupVersionKind), DefaultClaimVersion)
	claim := func(spec map[string]any) map[string]any {
		return map[string]any{"apiVersion": "platform.company.com/v1alpha1", "kind": "DatabaseClaim", "spec": spec}
	}
	tests := []struct {
		name string
		obj  map[string]any
		err  string
	}{
		{"engine outside the enum", claim(map[string]any{"engine": "oracle", "size": "small"}), "spec.engine: oracle is not one of"},
		{"size missing", claim(map[string]any{"engine": "mysql"}), "spec.size: required"},
		{"unknown spec field", claim(map[string]any{"engine": "mysql", "size": "small", "storage": "20Gi"}), "spec.storage: unknown field"},
		{"version not a string", claim(map[string]any{"engine": "mysql", "size": "small", "version": int64(8)}), "spec.version: want a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := schemaErrors(root, tt.obj, "")
			require.Len(t, errs, 1)
			require.Contains(t, errs[0], tt.err)
		})
	}
	require.Empty(t, schemaErrors(root, claim(map[string]any{"engine": "mysql", "size": "small"}), ""))
}
