package e2e

import (
	"encoding/json"
	"os"
	"testing"
)

// TestTimesWithoutZoneInPackages (issue 15): a column that holds a date
// and time in no zone (PostgreSQL timestamp, MySQL DATETIME) is written to
// the package without a zone, "2024-01-10T09:55:00", not with a "Z" that
// claims UTC; a column with a zone (timestamptz, TIMESTAMP) keeps it.
// The example's logins.logged_in_at and visits.visited_at are turned into
// such columns, through the whole path: driver, plugin boundary,
// checkpoint pages, package.
func TestTimesWithoutZoneInPackages(t *testing.T) {
	for _, tc := range []struct {
		kind string
		ddl  []string
	}{
		{"postgres", []string{
			`ALTER TABLE logins ALTER COLUMN logged_in_at TYPE timestamp USING logged_in_at::timestamptz AT TIME ZONE 'UTC'`,
			`ALTER TABLE visits ALTER COLUMN visited_at TYPE timestamptz USING visited_at::timestamptz`,
		}},
		{"mysql", []string{
			`UPDATE logins SET logged_in_at = REPLACE(REPLACE(logged_in_at, 'T', ' '), 'Z', '')`,
			`ALTER TABLE logins MODIFY logged_in_at DATETIME`,
			`UPDATE visits SET visited_at = REPLACE(REPLACE(visited_at, 'T', ' '), 'Z', '')`,
			`ALTER TABLE visits MODIFY visited_at TIMESTAMP NULL`,
		}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			b := newBackend(t, tc.kind)
			for _, q := range tc.ddl {
				if _, err := b.db.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			dir, _ := b.config(t)
			r := mustComplete(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
			data, err := os.ReadFile(r.pkg)
			if err != nil {
				t.Fatal(err)
			}
			var pkg map[string][]map[string]any
			if err := json.Unmarshal(data, &pkg); err != nil {
				t.Fatal(err)
			}
			logins := map[any]bool{}
			for _, row := range pkg["shop:logins"] {
				logins[row["logged_in_at"]] = true
			}
			for _, want := range []string{"2024-01-10T09:55:00", "2024-02-14T16:02:00", "2024-03-02T11:40:00"} {
				if !logins[want] {
					t.Errorf("logins.logged_in_at has no %q: %v", want, logins)
				}
			}
			visits := map[any]bool{}
			for _, row := range pkg["shop:visits"] {
				visits[row["visited_at"]] = true
			}
			if len(visits) == 0 {
				t.Fatalf("no visits in the package")
			}
			for v := range visits {
				s, _ := v.(string)
				if len(s) < 20 || s[len(s)-1] != 'Z' {
					t.Errorf("visits.visited_at (a column with a zone) is %q, want an instant in UTC", v)
				}
			}
		})
	}
}
