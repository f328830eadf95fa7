package jsoncol

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cairn-dev/cairn/store"
)

func TestEmptyCollectionsEncodeAsEmptyJSON(t *testing.T) {
	require.Equal(t, "[]", string(EncodeList[string](nil)))
	require.Equal(t, "[]", string(EncodeList([]store.Link{})))
	require.Equal(t, "{}", string(EncodeMap(nil)))
	require.Equal(t, "{}", string(EncodeMap(map[string]string{})))
}

func TestRoundTrip(t *testing.T) {
	links := []store.Link{{URL: "https://grafana.example.com", Title: "Dashboard"}, {URL: "https://runbooks.example.com"}}
	var gotLinks []store.Link
	require.NoError(t, DecodeList(EncodeList(links), &gotLinks))
	require.Equal(t, links, gotLinks)

	tags := []string{"go", "grpc", "go"}
	var gotTags []string
	require.NoError(t, DecodeList(EncodeList(tags), &gotTags))
	require.Equal(t, tags, gotTags)

	labels := map[string]string{"tier": "1", "region": "eu"}
	var gotLabels map[string]string
	require.NoError(t, DecodeMap(EncodeMap(labels), &gotLabels))
	require.Equal(t, labels, gotLabels)
}

func TestEmptyCollectionsDecodeAsNil(t *testing.T) {
	var tags []string
	require.NoError(t, DecodeList([]byte("[]"), &tags))
	require.Nil(t, tags)
	var labels map[string]string
	require.NoError(t, DecodeMap([]byte("{}"), &labels))
	require.Nil(t, labels)
}

func TestDecodeRejectsWrongJSON(t *testing.T) {
	var tags []string
	require.Error(t, DecodeList([]byte(`{"go": true}`), &tags))
	require.Error(t, DecodeList([]byte(`[`), &tags))
	var labels map[string]string
	require.Error(t, DecodeMap([]byte(`["go"]`), &labels))
}

func TestSpecRoundTrip(t *testing.T) {
	spec := store.ProvisioningSpec{
		Owner: "group:default/payments", Team: "payments", Description: "Takes orders.",
		Template: "template:default/go-grpc-service", RepositoryURL: "https://github.com/acme/orders",
		Database: "postgresql", DatabaseSize: "small", DatabaseVersion: "16", Bucket: true,
		Environments: []string{"staging", "production"}, ReplicaCount: 3, ProductionRevision: "4f2c1e9",
	}
	var got store.ProvisioningSpec
	require.NoError(t, DecodeSpec(EncodeSpec(spec), &got))
	require.Equal(t, spec, got)
}

func TestSpecEncodesAsObject(t *testing.T) {
	require.JSONEq(t, `{"owner": "", "team": ""}`, string(EncodeSpec(store.ProvisioningSpec{})))
}

func TestSpecEmptyEnvironmentsDecodeAsNil(t *testing.T) {
	got := store.ProvisioningSpec{Owner: "stale", Environments: []string{"staging"}}
	require.NoError(t, DecodeSpec([]byte(`{"owner": "group:default/payments", "team": "payments", "environments": []}`), &got))
	require.Equal(t, store.ProvisioningSpec{Owner: "group:default/payments", Team: "payments"}, got)
}

func TestSpecDecodeIgnoresUnknownFields(t *testing.T) {
	var got store.ProvisioningSpec
	require.NoError(t, DecodeSpec([]byte(`{"owner": "group:default/payments", "team": "payments", "region": "eu"}`), &got))
	require.Equal(t, store.ProvisioningSpec{Owner: "group:default/payments", Team: "payments"}, got)
}

func TestSpecDecodeRejectsWrongJSON(t *testing.T) {
	var got store.ProvisioningSpec
	require.Error(t, DecodeSpec([]byte(`["go"]`), &got))
	require.Error(t, DecodeSpec([]byte(`{"replicaCount": "three"}`), &got))
	require.Error(t, DecodeSpec([]byte(`{`), &got))
}
