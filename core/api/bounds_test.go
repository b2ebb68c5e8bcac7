package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lethehq/lethe/core/store"
)

// TestPagedLists: list routes answer a bounded page; page numbers are
// bounded so that offsets cannot overflow.
func TestPagedLists(t *testing.T) {
	all := make([]int, 250)
	for i := range all {
		all[i] = i
	}
	for _, tc := range []struct {
		query     string
		max       int
		code      int
		first, n  int
		wantTotal int
	}{
		{"", MaxPageSize, 0, 0, store.DefaultPageSize, 250},
		{"?page=3&size=100", MaxPageSize, 0, 200, 50, 250},
		{"?page=9&size=100", MaxPageSize, 0, 0, 0, 250},
		{"?size=101", MaxPageSize, 400, 0, 0, 0},
		{"?size=11", MaxDatasetPageSize, 400, 0, 0, 0},
		{"", MaxDatasetPageSize, 0, 0, MaxDatasetPageSize, 250},
		{"?page=9223372036854775807&size=100", MaxPageSize, 400, 0, 0, 0},
		{"?page=1000000&size=100", MaxPageSize, 0, 0, 0, 250},
		{"?colour=red", MaxPageSize, 400, 0, 0, 0},
	} {
		p, err := paged(httptest.NewRequest("GET", "/x"+tc.query, nil), all, tc.max)
		if tc.code != 0 {
			var e *Error
			if !asError(err, &e) || e.Status != tc.code {
				t.Errorf("%s: %v, want %d", tc.query, err, tc.code)
			}
			continue
		}
		if err != nil || len(p.Items) != tc.n || p.Total != tc.wantTotal || (tc.n > 0 && p.Items[0] != tc.first) {
			t.Errorf("%s: %d items from %v, total %d, %v", tc.query, len(p.Items), p.Items, p.Total, err)
		}
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}

// TestRequestListBounds: verbose lists carry a bounded number of events
// per request and of requests; the log's total counts every event, not
// the first page of the store.
func TestRequestListBounds(t *testing.T) {
	s, st := newServer(t, "server {\n  require_manual_approval = true\n}\n"+shopConfig)
	ctx := context.Background()
	req, err := st.CreateRequest(ctx, &store.Request{Policy: "access", Identities: map[string]string{"email": "a@example.com"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		if _, err := st.AppendEvent(ctx, req.ID, store.Event{Type: store.EventNodeStarted, Phase: store.PhaseAccess, Node: fmt.Sprintf("shop.c%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	const tok = "token:privacy-request:read"
	rec := get(s, "/api/v1/privacy-request?verbose=true&size=21", tok, "")
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "verbose") {
		t.Errorf("verbose with size 21: %d %s", rec.Code, rec.Body)
	}
	rec = get(s, "/api/v1/privacy-request?verbose=true&size=20", tok, "")
	var list Page[PrivacyRequest]
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Items) != 1 || len(list.Items[0].Events) != MaxVerboseEvents {
		t.Errorf("verbose list: %d, %d items, %v", rec.Code, len(list.Items), err)
	}
	rec = get(s, "/api/v1/privacy-request/"+req.ID+"/log?page=2&size=100", tok, "")
	var log Page[EventView]
	if err := json.Unmarshal(rec.Body.Bytes(), &log); err != nil || log.Total != 151 || len(log.Items) != 51 {
		t.Errorf("log page 2: %d, total %d, %d items, %v", rec.Code, log.Total, len(log.Items), err)
	}
}

// TestPolicyKeysBounded: error messages name at most 20 policies.
func TestPolicyKeysBounded(t *testing.T) {
	var hcl strings.Builder
	for i := range 30 {
		fmt.Fprintf(&hcl, "policy \"p%02d\" {\n  rule \"r\" {\n    action  = \"access\"\n    targets = [\"user\"]\n    storage = \"local\"\n  }\n}\n", i)
	}
	s, _ := newServer(t, hcl.String())
	got := policyKeys(s.cfg())
	if !strings.Contains(got, "p19") || strings.Contains(got, "p20") || !strings.Contains(got, "and 10 more") {
		t.Errorf("policyKeys = %s", got)
	}
}
