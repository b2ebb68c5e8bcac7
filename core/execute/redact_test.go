package execute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/lethehq/lethe/core/store"
	"github.com/lethehq/lethe/sdk/fault"
)

// TestFailureTextsCarryNoIdentity: a connector error that quotes the
// request's identity (as PostgreSQL does when an e-mail is compared with a
// uuid column, here from a connector that does not redact) reaches
// neither the log, nor the progress reports, nor the reason and events,
// nor the bytes of the state directory.
func TestFailureTextsCarryNoIdentity(t *testing.T) {
	const marker = "MARKER-31f0@example.com"
	db := shopDB()
	db.failN["users"] = 1
	db.failErr = fault.AsPermanent(fmt.Errorf(`ERROR: invalid input syntax for type uuid: "%s" (SQLSTATE 22P02); %s`, marker, strings.ToUpper(marker)))
	e := newEnv(t, db, nil)
	var logs bytes.Buffer
	var mu sync.Mutex
	var progress []string
	eng := e.engine(t, func(o *Options) {
		o.Logger = hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace})
		o.Observe = func(p Progress) {
			if p.Err != nil {
				mu.Lock()
				progress = append(progress, p.Err.Error())
				mu.Unlock()
			}
		}
	})
	id := e.submit(t, eng, "access", map[string]string{"email": marker})
	req, err := eng.Run(context.Background(), id)
	if !errors.Is(err, ErrRequestFailed) || req.Status != store.StatusError {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(req.Reason, "invalid input syntax for type uuid") || !strings.Contains(req.Reason, "[redacted]") {
		t.Errorf("reason %q: the failure is no longer described", req.Reason)
	}
	evs, _ := e.st.Events(context.Background(), id, 0, 0)
	texts := []string{err.Error(), req.Reason, logs.String(), strings.Join(progress, "\n")}
	for _, ev := range evs {
		texts = append(texts, ev.Error)
	}
	for _, s := range texts {
		if strings.Contains(strings.ToLower(s), strings.ToLower(marker)) {
			t.Errorf("the identity is in %q", s)
		}
	}
	if !strings.Contains(logs.String(), "node failed") {
		t.Errorf("no node failure logged: %s", logs.String())
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(e.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		if bytes.Contains(bytes.ToLower(data), bytes.ToLower([]byte(marker))) {
			t.Errorf("the identity is in %s", p)
		}
		return nil
	})
}
