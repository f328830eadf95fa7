// Package migrations reads the schema migrations an engine embeds and
// compares them with those its database records as applied. The runner
// that applies them is store/internal/sqlstore's, in each engine's SQL.
package migrations

import (
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"

	"github.com/cairn-dev/cairn/store"
)

// Migration is one schema change, read from migrations/NNNN_name.sql. A
// migration a database records as applied has no SQL.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// String is the migration's file name without its extension:
// 0001_catalog.
func (m Migration) String() string {
	return fmt.Sprintf("%04d_%s", m.Version, m.Name)
}

// Read reads the migrations in fsys's migrations directory, in version
// order. Versions must be unique.
func Read(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	migrations := make([]Migration, 0, len(entries))
	for _, e := range entries { // ReadDir sorts by file name, so by version
		m, err := parseName(e.Name())
		if err != nil {
			return nil, err
		}
		if n := len(migrations); n > 0 && migrations[n-1].Version == m.Version {
			return nil, fmt.Errorf("migration version %d used twice", m.Version)
		}
		sqlText, err := fs.ReadFile(fsys, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		m.SQL = string(sqlText)
		migrations = append(migrations, m)
	}
	return migrations, nil
}

var fileName = regexp.MustCompile(`^(\d{4})_(\w+)\.sql$`)

// parseName reads the version and name of NNNN_name.sql.
func parseName(file string) (Migration, error) {
	match := fileName.FindStringSubmatch(file)
	if match == nil || match[1] == "0000" {
		return Migration{}, fmt.Errorf("migration file %q is not named NNNN_name.sql, NNNN from 0001", file)
	}
	version, _ := strconv.Atoi(match[1]) // four digits always parse
	return Migration{Version: version, Name: match[2]}, nil
}

// Check compares the migrations a binary knows, as Read returns them, with
// those its database records as applied. Migrations are told apart by
// version alone, as the runners do. It returns an error wrapping
// store.ErrSchemaNewer when the database records a version not known (a
// newer binary migrated it: migrating will not help), else one wrapping
// store.ErrSchemaOutdated when a known migration is not applied, naming the
// migrations in either case; nil when every known migration is applied.
func Check(known, applied []Migration) error {
	isKnown := make(map[int]bool, len(known))
	for _, m := range known {
		isKnown[m.Version] = true
	}
	isApplied := make(map[int]bool, len(applied))
	var unknown []string
	for _, m := range applied {
		isApplied[m.Version] = true
		if !isKnown[m.Version] {
			unknown = append(unknown, m.String())
		}
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: migrations unknown to this Cairn: %s", store.ErrSchemaNewer, strings.Join(unknown, ", "))
	}
	var pending []string
	for _, m := range known {
		if !isApplied[m.Version] {
			pending = append(pending, m.String())
		}
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w: migrations not applied: %s", store.ErrSchemaOutdated, strings.Join(pending, ", "))
	}
	return nil
}
