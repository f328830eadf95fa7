package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// RepoRoot is the folder of the go.mod above the working directory, which
// is a package's folder under go test: the harnesses find deploy/ and
// .cache/ from it.
func RepoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod in %s or above it: the test harnesses find the repository's files from its root", wd)
		}
	}
}
