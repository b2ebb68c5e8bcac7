package api

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// apiDoc is the HTTP API reference; its route table is made from the
// route table of this package, between these markers.
const (
	apiDoc     = "../../docs/api.md"
	routesFrom = "<!-- routes: made from core/api/routes.go by TestAPIDocListsEveryRoute; LETHE_UPDATE_DOCS=1 rewrites it -->"
	routesTo   = "<!-- end of routes -->"
)

func routeTable(routes []Route) string {
	var b strings.Builder
	b.WriteString("| method | path | scope | body | answer | what it does |\n|---|---|---|---|---|---|\n")
	for _, rt := range routes {
		scope := "`" + rt.Scope + "`"
		if rt.Scope == Public {
			scope = "none"
		}
		if rt.DRP && rt.Scope != Public {
			scope += ", or an agent's token"
		}
		cell := func(s string) string {
			if s == "" {
				return ""
			}
			return "`" + s + "`"
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s | %s |\n", rt.Method, rt.Path, scope, cell(rt.Body), cell(rt.Response),
			strings.ReplaceAll(rt.Summary, "|", "\\|"))
	}
	return b.String()
}

// TestAPIDocListsEveryRoute: docs/api.md lists every route of the table
// with its scope, so that the reference cannot drift from the code.
func TestAPIDocListsEveryRoute(t *testing.T) {
	s := testServer(t)
	data, err := os.ReadFile(apiDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	i, j := strings.Index(doc, routesFrom), strings.Index(doc, routesTo)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the route table markers", apiDoc)
	}
	want := routeTable(s.Routes())
	got := strings.TrimSpace(doc[i+len(routesFrom) : j])
	if got == strings.TrimSpace(want) {
		return
	}
	if os.Getenv("LETHE_UPDATE_DOCS") == "1" {
		doc = doc[:i+len(routesFrom)] + "\n\n" + want + "\n" + doc[j:]
		if err := os.WriteFile(filepath.Clean(apiDoc), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/api.md's route table differs from the routes; run LETHE_UPDATE_DOCS=1 go test -run TestAPIDocListsEveryRoute ./core/api")
}
