package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCairnLinksNoTestEnvironment keeps the harnesses of internal/testenv
// (which start API servers and databases) out of the production binary.
func TestCairnLinksNoTestEnvironment(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/cairn-dev/cairn/internal/testenv") {
			t.Errorf("cairn links %s, a test harness", pkg)
		}
	}
}
