package server

import (
	"testing"

	"buf.build/go/protovalidate"
	"github.com/stretchr/testify/require"

	cairnv1 "github.com/cairn-dev/cairn/gen/go/cairn/v1"
	"github.com/cairn-dev/cairn/server/apierr"
)

func TestPromotionRevisionsMustBeGitRefs(t *testing.T) {
	v, err := protovalidate.New()
	require.NoError(t, err)
	request := func(revision string) *cairnv1.CreatePromotionRequest {
		return &cairnv1.CreatePromotionRequest{Parent: "services/orders-service", Promotion: &cairnv1.Promotion{Revision: revision}}
	}
	for _, revision := range []string{"v1.4.0", "release/1.4", "0f3c2a9d41b7e8c6a5d4f3e2b1a0c9d8e7f6a5b4", "v2.0.0+build.7", "main"} {
		require.NoError(t, validateMessage(v, request(revision)), revision)
	}
	tooLong := make([]byte, 5000)
	for i := range tooLong {
		tooLong[i] = 'a'
	}
	for _, revision := range []string{"$(id)", "../../etc", "v1/../../x", "-rf", "v1 v2", "main\n", "refs//heads", "v1.lock", "release/", "a/.hidden", "", string(tooLong)} {
		err := validateMessage(v, request(revision))
		var apiErr *apierr.Error
		require.ErrorAs(t, err, &apiErr, "%.40q", revision)
		require.Equal(t, "promotion.revision", apiErr.Violations[0].Field)
	}
}
