package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

const errMarker = "MARKER-0d9e@example.com"

// stateBytes is every byte of every file in dir.
func stateBytes(t *testing.T, dir string) []byte {
	t.Helper()
	var all []byte
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		all = append(all, data...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// TestReasonsAndEventErrorsSealed reproduces issue 13 item 6 at the
// store: a request's reason and its events' error texts were kept in the
// clear, so a value an error quoted was in the state file as written.
// They are sealed now, and read back as they were.
func TestReasonsAndEventErrorsSealed(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p", Status: StatusInProcessing})
	text := `access db.users: invalid input syntax for type uuid: "` + errMarker + `"`
	if _, err := s.AppendEvent(ctx, r.ID, Event{Type: EventNodeFailed, Phase: PhaseAccess, Node: "db.users", Error: text}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, r.ID, []Status{StatusInProcessing}, StatusError, Event{Error: text}, func(r *Request) error {
		r.Reason = text
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Another transition that keeps the reason.
	if _, err := s.Transition(ctx, r.ID, []Status{StatusError}, StatusError, Event{}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, r.ID)
	if err != nil || got.Reason != text {
		t.Fatalf("reason read back %q, %v", got.Reason, err)
	}
	evs, err := s.Events(ctx, r.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	errs := 0
	for _, ev := range evs {
		if ev.Error == text {
			errs++
		}
	}
	if errs != 2 {
		t.Errorf("%d events read back with the error text, want 2: %+v", errs, evs)
	}
	s.Close()
	if bytes.Contains(stateBytes(t, s.dir), []byte(errMarker)) {
		t.Error("the marker is in the state directory's bytes")
	}
}

// TestSchema1Migrated: a state file of schema 1 (reasons and event
// errors in the clear) opens; its reasons and errors read as before and
// are sealed from then on.
func TestSchema1Migrated(t *testing.T) {
	s := openTestStore(t, nil)
	ctx := context.Background()
	r := mustCreate(t, s, &Request{Policy: "p", Status: StatusInProcessing})
	seq, err := s.AppendEvent(ctx, r.ID, Event{Type: EventNodeFailed, Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	// Write what schema 1 wrote: the texts in the clear.
	err = s.db.Update(func(tx *bolt.Tx) error {
		rec, err := loadRecord(tx, r.ID)
		if err != nil {
			return err
		}
		rec.Reason, rec.ReasonSealed = "old "+errMarker, nil
		if err := putRecord(tx, rec); err != nil {
			return err
		}
		v, _ := json.Marshal(Event{Type: EventNodeFailed, Node: "n", Error: "old " + errMarker})
		if err := tx.Bucket(bktEvents).Bucket([]byte(r.ID)).Put(u64(seq), v); err != nil {
			return err
		}
		return tx.Bucket(bktMeta).Put(metaSchema, binary.BigEndian.AppendUint32(nil, 1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	b, err := Open(s.dir, Options{Key: testKey(1), Clock: s.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := b.Get(ctx, r.ID)
	if err != nil || got.Reason != "old "+errMarker {
		t.Fatalf("reason after migration %q, %v", got.Reason, err)
	}
	evs, err := b.Events(ctx, r.ID, 0, 0)
	if err != nil || len(evs) != 2 || evs[1].Error != "old "+errMarker {
		t.Fatalf("events after migration %+v, %v", evs, err)
	}
	err = b.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bktMeta).Get(metaSchema); binary.BigEndian.Uint32(v) != schemaVersion {
			t.Errorf("schema %d after migration", binary.BigEndian.Uint32(v))
		}
		if bytes.Contains(tx.Bucket(bktRequests).Get([]byte(r.ID)), []byte(errMarker)) {
			t.Error("the record still holds the reason in the clear")
		}
		if bytes.Contains(tx.Bucket(bktEvents).Bucket([]byte(r.ID)).Get(u64(seq)), []byte(errMarker)) {
			t.Error("the event still holds the error in the clear")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
