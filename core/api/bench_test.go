package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethehq/lethe/core/store"
)

// benchServer is the API over real loopback HTTP with a real store (one
// fsync'd group commit per batch of writes), requests kept pending so only
// their creation is measured.
func benchServer(b *testing.B) (*httptest.Server, *store.Bolt) {
	b.Helper()
	s, st := newServer(b, `
server {
  require_manual_approval = true
}
connection "db" {
  plugin = "sqlite"
  access = "write"
  config = { path = "x.db" }
}
dataset "shop" {
  connection = "db"
  collection "customers" {
    field "id" {
      primary_key = true
      categories  = ["user.unique_id"]
    }
    field "email" {
      type       = "string"
      categories = ["user.contact.email"]
      identity   = "email"
    }
  }
}
policy "access" {
  rule "all" {
    action  = "access"
    targets = ["user"]
    storage = "local"
  }
}
`)
	srv := httptest.NewServer(s)
	b.Cleanup(srv.Close)
	return srv, st
}

const benchToken = "token:privacy-request:create,privacy-request:read"

func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
}

func createOne(c *http.Client, base string, i int64) (string, error) {
	body := fmt.Sprintf(`[{"identity": {"email": "person%d@example.com"}, "policy_key": "access"}]`, i)
	req, _ := http.NewRequest("POST", base+"/api/v1/privacy-request", bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+benchToken)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out Bulk[PrivacyRequest]
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 || len(out.Succeeded) != 1 {
		return "", fmt.Errorf("create: %d %v %+v", resp.StatusCode, err, out.Failed)
	}
	return out.Succeeded[0].ID, nil
}

// BenchmarkCreateRequests: privacy requests created per second through
// POST /api/v1/privacy-request, one request per call, 32 concurrent
// clients on loopback. Each creation is durable (fsync'd) before the
// answer. Reports requests/s and the p99 latency of a call.
func BenchmarkCreateRequests(b *testing.B) {
	srv, _ := benchServer(b)
	c := benchClient()
	var n atomic.Int64
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if _, err := createOne(c, srv.URL, n.Add(1)); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "requests/s")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
}

// BenchmarkStatusRead: GET /api/v1/privacy-request/{id} over 1,000
// stored requests, 32 concurrent clients. Reports reads/s and p99.
func BenchmarkStatusRead(b *testing.B) {
	srv, _ := benchServer(b)
	c := benchClient()
	ids := make([]string, 1000)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := createOne(c, srv.URL, int64(i))
			if err != nil {
				b.Error(err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	var n atomic.Int64
	lat := make([]time.Duration, 0, b.N)
	var mu sync.Mutex
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			id := ids[n.Add(1)%int64(len(ids))]
			t0 := time.Now()
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/privacy-request/"+id, nil)
			req.Header.Set("Authorization", "Bearer "+benchToken)
			resp, err := c.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status read: %d", resp.StatusCode)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
}

func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}
