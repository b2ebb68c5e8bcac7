package store

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"
)

// testKey returns a deterministic 32-byte key; seed varies it.
func testKey(seed byte) []byte {
	return bytes.Repeat([]byte{seed}, KeySize)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type testStore struct {
	*Bolt
	dir   string
	clock *fakeClock
}

func openTestStore(t testing.TB, mod func(*Options)) *testStore {
	t.Helper()
	dir := t.TempDir()
	clock := newFakeClock()
	opts := Options{Key: testKey(1), Clock: clock.Now}
	if mod != nil {
		mod(&opts)
	}
	b, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return &testStore{Bolt: b, dir: dir, clock: clock}
}

func mustCreate(t testing.TB, s Store, r *Request) *Request {
	t.Helper()
	got, err := s.CreateRequest(context.Background(), r, nil)
	if err != nil {
		t.Fatalf("CreateRequest: %v", err)
	}
	return got
}

func ids(rs []*Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
