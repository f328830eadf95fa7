package audit

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestPrincipalFilterNamesUsersCanonically(t *testing.T) {
	for filter, want := range map[string]string{
		"user:default/Zed": "user:default/zed",
		"User:Default/zed": "user:default/zed",
		"user:zed":         "user:default/zed",
		"ci-orders":        "ci-orders",
		"":                 "",
	} {
		require.Equal(t, want, principalFilter(filter), filter)
	}
}
