package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/execute"
	"github.com/lethehq/lethe/core/store"
)

// TestRetryDuringTheEndOfARun: a retry that lands after a request moved to
// error but before its run ended was picked by another worker, failed with
// "already running" and left the request approved until a restart. The
// retry now runs once the first run has ended. Hooks order the steps; no
// sleeps.
func TestRetryDuringTheEndOfARun(t *testing.T) {
	failures := make(chan string, 4)
	var s *Server
	var runner *Runner
	handled := make(chan string, 4)
	var retried atomic.Bool
	s, st := newServerWith(t, shopConfig, func(o *Options) {
		eng, err := execute.New(execute.Options{Config: o.Config, Store: o.Store, Plugins: noPlugins{},
			Observe: func(p execute.Progress) {
				if p.Event != store.EventStatus || p.Err == nil {
					return
				}
				// The request is in error and its run has not ended yet.
				if retried.CompareAndSwap(false, true) {
					req := httptest.NewRequest("POST", "/api/v1/privacy-request/"+p.RequestID+"/retry", nil)
					req.Header.Set("Authorization", "Bearer token:privacy-request:resume")
					rec := httptest.NewRecorder()
					s.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						t.Errorf("retry: %d %s", rec.Code, rec.Body)
					}
					// Wait until the other worker has taken the retried
					// request, while this run still holds it.
					select {
					case <-handled:
					case <-time.After(10 * time.Second):
						t.Error("no worker took the retried request")
					}
				}
				failures <- p.RequestID
			}})
		if err != nil {
			t.Fatal(err)
		}
		o.Engine = eng
		runner = NewRunner(eng, o.Store, 2, nil)
		o.Runner = runner
	})
	runner.handled = func(id string) {
		if retried.Load() {
			select {
			case handled <- id:
			default:
			}
		}
	}
	ctx := context.Background()
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runner.Stop(context.Background()) })
	req := httptest.NewRequest("POST", "/api/v1/privacy-request", strings.NewReader(`[{"identity": {"email": "a@example.com"}, "policy_key": "access"}]`))
	req.Header.Set("Authorization", "Bearer token:privacy-request:create")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"failed":[]`) {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	for i := range 2 {
		select {
		case <-failures:
		case <-time.After(20 * time.Second):
			list, _, _ := st.List(ctx, store.Filter{})
			status := store.Status("none")
			if len(list) == 1 {
				status = list[0].Status
			}
			t.Fatalf("run %d of the request never ended; it is %s", i+1, status)
		}
	}
	list, _, err := st.List(ctx, store.Filter{})
	if err != nil || len(list) != 1 || list[0].Status != store.StatusError || list[0].Attempt != 2 {
		t.Fatalf("after the retried run: %+v %v", list, err)
	}
}
