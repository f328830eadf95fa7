package provisioning

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckRepositoryURLTakesGitServersOnly(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://github.com/company/orders-service.git", true},
		{"ssh://git@gitlab.internal:2222/team/orders.git", true},
		{"git://git.example.com/orders.git", true},
		{"git@github.com:company/orders-service.git", true},
		{"https://10.1.2.3/scm/orders.git", true}, // a Git server on a private network is ordinary
		{"", true}, // no repository: only for a service with no environment
		{"file:///etc/passwd", false},
		{"http://169.254.169.254/latest", false},
		{"https://169.254.169.254/latest/meta-data", false},
		{"https://[fe80::1]/repo.git", false},
		{"https://127.0.0.1/repo.git", false},
		{"https://[::ffff:127.0.0.1]/repo.git", false},
		{"ssh://localhost/repo.git", false},
		{"https://0.0.0.0/repo.git", false},
		{"https://user:token@github.com/company/orders.git", false},
		{"https://token@github.com/company/orders.git", false},
		{"https://github.com", false},
		{"javascript:alert(1)", false},
		{"github.com/company/orders", false},
		{"https://github.com/company/orders.git\n", false},
		{"git@127.0.0.1:repo.git", false},
		{"ext::sh -c touch% /tmp/x", false},
	} {
		err := checkRepositoryURL(tc.url)
		if tc.ok {
			require.NoError(t, err, tc.url)
		} else {
			require.Error(t, err, tc.url)
		}
	}
}
