package s3store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/lethehq/lethe/plugins/storage-s3/internal/s3test"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/storage"
)

// fixture is a fresh bucket on the test server and a client to look
// into it.
type fixture struct {
	srv    s3test.Server
	bucket string
	c      *minio.Core
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	srv := s3test.FromEnv()
	bucket := s3test.NewBucket(t, srv)
	return fixture{srv: srv, bucket: bucket, c: srv.Client(t)}
}

// store configures the plugin for the fixture's bucket, with extra
// attributes.
func (fx fixture) store(t *testing.T, extra map[string]any) *Store {
	t.Helper()
	return newStoreFrom(t, fx.srv.Config(fx.bucket, extra))
}

func newStoreFrom(t *testing.T, raw map[string]any) *Store {
	t.Helper()
	cfg, diags := Definition("0").Config.Validate(raw)
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	st, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(context.Background()) })
	return st.(*Store)
}

func (fx fixture) expectNothing(t *testing.T, key string) {
	t.Helper()
	ctx := context.Background()
	if got, err := s3test.Fetch(ctx, fx.c, fx.bucket, key); !s3test.ErrNotFound(err) {
		t.Errorf("object %s: %d bytes, %v; want none", key, len(got), err)
	}
	ups, err := s3test.IncompleteUploads(ctx, fx.c, fx.bucket, key)
	if err != nil {
		t.Fatalf("list incomplete uploads: %v", err)
	}
	if len(ups) != 0 {
		t.Errorf("incomplete multipart uploads left: %v", ups)
	}
}

// stream hands out n pseudo-random bytes without holding them, then fails
// with failErr (io.EOF: ends normally). It keeps the sha256 of what it
// handed out.
type stream struct {
	left    int64
	rng     *rand.ChaCha8
	failErr error
	sum     hash.Hash
	onRead  func(read int64) // called after each read with the count so far
	read    int64
}

func newStream(n int64, seed byte, failErr error) *stream {
	return &stream{left: n, rng: rand.NewChaCha8([32]byte{seed}), failErr: failErr, sum: sha256.New()}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, s.failErr
	}
	if int64(len(p)) > s.left {
		p = p[:s.left]
	}
	// Short reads, like a network stream's.
	if len(p) > 100_000 {
		p = p[:100_000]
	}
	_, _ = s.rng.Read(p)
	s.sum.Write(p)
	s.left -= int64(len(p))
	s.read += int64(len(p))
	if s.onRead != nil {
		s.onRead(s.read)
	}
	return len(p), nil
}

func (s *stream) sha256() string {
	return hex.EncodeToString(s.sum.Sum(nil))
}

// A multi-part object comes back byte for byte through the presigned URL,
// with the sha256 Upload reported.
func TestMultipartUploadThroughPresignedURL(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20), "presign_ttl": "1h"})
	const size = 12 << 20
	src := newStream(size, 1, io.EOF)
	key := "req-1/access package.zip"
	res, err := st.Upload(context.Background(), storage.Object{RequestID: "req-1", Key: key, ContentType: "application/zip", SizeHint: size}, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Size != size || res.SHA256 != src.sha256() {
		t.Errorf("result %d bytes, sha256 %s; want %d, %s", res.Size, res.SHA256, size, src.sha256())
	}

	u, err := url.Parse(res.Location)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("X-Amz-Expires") != "3600" || q.Get("X-Amz-Signature") == "" || !strings.HasSuffix(u.Path, "/"+fx.bucket+"/req-1/access package.zip") {
		t.Errorf("location %s: want a presigned URL of the object valid for 3600 s", res.Location)
	}
	resp, err := http.Get(res.Location)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		t.Fatalf("GET of the presigned URL: %s\n%s", resp.Status, body)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, size)
	_, _ = rand.NewChaCha8([32]byte{1}).Read(want)
	// The stream reads in slices of 100000 bytes; ChaCha8 gives the same
	// bytes however they are sliced.
	if !bytes.Equal(got, want) {
		t.Errorf("the object differs from what was uploaded (%d bytes, want %d)", len(got), len(want))
	}
	if sum := sha256.Sum256(got); hex.EncodeToString(sum[:]) != res.SHA256 {
		t.Errorf("sha256 of the download %x, Upload reported %s", sum, res.SHA256)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("content type %q", ct)
	}

	info, err := fx.c.StatObject(context.Background(), fx.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A multipart ETag ends in -<number of parts>: 5 + 5 + 2 MiB.
	if !strings.HasSuffix(info.ETag, "-3") {
		t.Errorf("ETag %q: want an object of 3 parts", info.ETag)
	}
	if info.UserMetadata["Request-Id"] != "req-1" {
		t.Errorf("metadata %v: want request-id", info.UserMetadata)
	}
	fx.expectNothing(t, "req-1/other")
}

// Objects of 0 bytes, under one part, of exactly one and two parts, and
// one byte over, land whole.
func TestUploadSizes(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20)})
	for _, tc := range []struct {
		size  int64
		parts string // the ETag's suffix; "" for a single PUT
	}{{0, ""}, {1, ""}, {5<<20 - 1, ""}, {5 << 20, "-1"}, {5<<20 + 1, "-2"}, {10 << 20, "-2"}} {
		t.Run(fmt.Sprint(tc.size), func(t *testing.T) {
			src := newStream(tc.size, byte(tc.size), io.EOF)
			key := fmt.Sprintf("sizes/%d.bin", tc.size)
			res, err := st.Upload(context.Background(), storage.Object{Key: key, SizeHint: -1}, src)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s3test.Fetch(context.Background(), fx.c, fx.bucket, key)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(got)
			if int64(len(got)) != tc.size || hex.EncodeToString(sum[:]) != src.sha256() || res.SHA256 != src.sha256() || res.Size != tc.size {
				t.Errorf("stored %d bytes (sha256 %x), result %+v; want %d bytes, sha256 %s", len(got), sum, res, tc.size, src.sha256())
			}
			info, err := fx.c.StatObject(context.Background(), fx.bucket, key, minio.StatObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.parts == "" && strings.Contains(info.ETag, "-") || tc.parts != "" && !strings.HasSuffix(info.ETag, tc.parts) {
				t.Errorf("ETag %q, want parts %q", info.ETag, tc.parts)
			}
			if info.ContentType != "application/octet-stream" {
				t.Errorf("content type %q", info.ContentType)
			}
		})
	}
}

// A source that fails part-way makes Upload fail, and leaves no object and
// no incomplete multipart upload; an earlier object under the key stays.
func TestFailedUploadLeavesNothing(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20)})

	// The check sees an incomplete upload when there is one.
	probe := "control/incomplete.bin"
	id, err := fx.c.NewMultipartUpload(context.Background(), fx.bucket, probe, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ups, err := s3test.IncompleteUploads(context.Background(), fx.c, fx.bucket, probe); err != nil || len(ups) != 1 {
		t.Fatalf("incomplete uploads of a started upload: %v %v; the check cannot see them", ups, err)
	}
	if err := fx.c.AbortMultipartUpload(context.Background(), fx.bucket, probe, id); err != nil {
		t.Fatal(err)
	}

	broke := errors.New("source broke")
	for _, at := range []int64{1 << 20, 7 << 20, 12 << 20, 15 << 20} {
		t.Run(fmt.Sprintf("after %d MiB", at>>20), func(t *testing.T) {
			key := fmt.Sprintf("failed/%d.bin", at)
			_, err := st.Upload(context.Background(), storage.Object{Key: key}, newStream(at, 2, broke))
			if !errors.Is(err, broke) {
				t.Fatalf("Upload: %v, want the source's error", err)
			}
			fx.expectNothing(t, key)
		})
	}

	t.Run("earlier object kept", func(t *testing.T) {
		key := "failed/kept.json"
		if _, err := st.Upload(context.Background(), storage.Object{Key: key}, strings.NewReader(`{"complete":true}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Upload(context.Background(), storage.Object{Key: key}, newStream(11<<20, 3, broke)); err == nil {
			t.Fatal("an upload whose source failed succeeded")
		}
		if got, err := s3test.Fetch(context.Background(), fx.c, fx.bucket, key); err != nil || string(got) != `{"complete":true}` {
			t.Errorf("object after a failed overwrite: %q %v", got, err)
		}
		if ups, _ := s3test.IncompleteUploads(context.Background(), fx.c, fx.bucket, key); len(ups) != 0 {
			t.Errorf("incomplete uploads left: %v", ups)
		}
	})
}

// Cancelling the context part-way aborts the multipart upload, even though
// the abort runs after the context has ended.
func TestCancelledUploadAborts(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20)})
	for _, at := range []int64{2 << 20, 6 << 20, 11 << 20} {
		t.Run(fmt.Sprintf("after %d MiB", at>>20), func(t *testing.T) {
			key := fmt.Sprintf("cancelled/%d.bin", at)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			src := newStream(20<<20, 4, io.EOF)
			src.onRead = func(n int64) {
				if n >= at {
					cancel()
				}
			}
			_, err := st.Upload(ctx, storage.Object{Key: key}, src)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Upload: %v, want context.Canceled", err)
			}
			if fault.Retryable(err) {
				t.Errorf("a cancelled upload is retryable: %v", err)
			}
			fx.expectNothing(t, key)
		})
	}
}

// While a multipart upload is under way its key does not exist.
func TestObjectAppearsOnlyWhenComplete(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20)})
	key := "slow/package.bin"
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := st.Upload(context.Background(), storage.Object{Key: key}, pr)
		done <- err
	}()
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for range 6 {
		if _, err := pw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	// The first part is on its way: wait until the upload shows.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ups, err := s3test.IncompleteUploads(context.Background(), fx.c, fx.bucket, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(ups) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no multipart upload under way: %v", ups)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := fx.c.StatObject(context.Background(), fx.bucket, key, minio.StatObjectOptions{}); minio.ToErrorResponse(err).Code != "NoSuchKey" {
		t.Errorf("the object is visible before it is complete: %v", err)
	}
	pw.Write(chunk)
	pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatal("upload did not finish")
	}
	got, err := s3test.Fetch(context.Background(), fx.c, fx.bucket, key)
	if err != nil || !bytes.Equal(got, bytes.Repeat(chunk, 7)) {
		t.Errorf("object: %d bytes, %v", len(got), err)
	}
	fx.expectNothing(t, key+".other")
	if ups, _ := s3test.IncompleteUploads(context.Background(), fx.c, fx.bucket, key); len(ups) != 0 {
		t.Errorf("incomplete uploads after completion: %v", ups)
	}
}

// presign_ttl sets the validity of the link, and more than 7 days is
// refused before anything is uploaded.
func TestPresignTTL(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"presign_ttl": "168h"})
	res, err := st.Upload(context.Background(), storage.Object{Key: "ttl.json"}, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(res.Location)
	if got := u.Query().Get("X-Amz-Expires"); got != "604800" {
		t.Errorf("X-Amz-Expires %q, want 604800 (7 days)", got)
	}
	if def := fx.store(t, nil); def.set.ttl != 24*time.Hour {
		t.Errorf("default presign_ttl %s", def.set.ttl)
	}

	for _, ttl := range []string{"168h1s", "200h", "8760h"} {
		cfg, diags := Definition("0").Config.Validate(fx.srv.Config(fx.bucket, map[string]any{"presign_ttl": ttl}))
		if diags.HasErrors() {
			t.Fatal(diags.Err())
		}
		_, err := New(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "longer than 7 days") || fault.KindOf(err) != fault.Permanent {
			t.Errorf("presign_ttl %s: %v, want a permanent refusal", ttl, err)
		}
	}
}

// Test passes on a writable bucket and leaves nothing; otherwise its error
// names what to fix, classified.
func TestTest(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	if err := fx.store(t, nil).Test(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, err := s3test.Objects(ctx, fx.c, fx.bucket, ""); err != nil || len(keys) != 0 {
		t.Errorf("objects after Test: %v %v", keys, err)
	}
	if ups, err := s3test.IncompleteUploads(ctx, fx.c, fx.bucket, ""); err != nil || len(ups) != 0 {
		t.Errorf("incomplete uploads after Test: %v %v", ups, err)
	}

	tests := []struct {
		name  string
		extra map[string]any
		want  string
		kind  fault.Kind
	}{
		{"missing bucket", map[string]any{"bucket": fx.bucket + "-missing"}, "does not exist; create it or correct bucket", fault.Permanent},
		{"wrong secret", map[string]any{"secret_access_key": "not-the-secret"}, "check secret_access_key", fault.Permanent},
		{"unknown access key", map[string]any{"access_key_id": "nobody-at-all"}, "check access_key_id", fault.Permanent},
		{"unreachable", map[string]any{"endpoint": "http://127.0.0.1:1"}, "cannot reach 127.0.0.1:1; check endpoint", fault.Transient},
		{"unknown host", map[string]any{"endpoint": "http://lethe-no-such-host.invalid:9000"}, "not found; check endpoint", fault.Permanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			want, kind := tc.want, tc.kind
			if tc.name == "unknown host" {
				// .invalid never resolves (RFC 6761), given a resolver;
				// without one, an unknown host cannot be told from an
				// unreachable one, and the error still names the endpoint.
				var dnsErr *net.DNSError
				if _, err := net.DefaultResolver.LookupHost(ctx, "lethe-no-such-host.invalid"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
					t.Logf("no DNS resolver answers here (%v): checking for an unreachable endpoint instead", err)
					want, kind = "check endpoint", fault.Transient
				}
			}
			st := fx.store(t, tc.extra)
			err := st.Test(ctx)
			if err == nil || !strings.Contains(err.Error(), want) || fault.KindOf(err) != kind {
				t.Fatalf("Test: %v (kind %v), want kind %v and %q", err, fault.KindOf(err), kind, want)
			}
			t.Logf("Test: %v", err)
			// Upload fails the same way.
			_, err = st.Upload(ctx, storage.Object{Key: "x.json"}, strings.NewReader("{}"))
			if err == nil || fault.KindOf(err) != kind {
				t.Errorf("Upload: %v (kind %v), want kind %v", err, fault.KindOf(err), kind)
			}
			if strings.Contains(fmt.Sprint(err), "not-the-secret") {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}

	t.Run("encryption the server lacks", func(t *testing.T) {
		// The test MinIO (scripts/servers.sh) runs without a KMS, so it
		// refuses SSE-KMS: Test says so before any upload does.
		st := fx.store(t, map[string]any{"server_side_encryption": "aws:kms", "kms_key_id": "lethe-test-key"})
		err := st.Test(ctx)
		if err == nil {
			t.Fatal("Test accepted SSE-KMS on a server without a KMS")
		}
		t.Logf("Test: %v", err)
		if fault.KindOf(err) != fault.Permanent || !strings.Contains(err.Error(), "server_side_encryption") {
			t.Errorf("Test: %v, want a permanent error naming server_side_encryption", err)
		}
	})
}

// Uploads after Close fail; Close twice is fine.
func TestClose(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, nil)
	for i := 1; i <= 2; i++ {
		if err := st.Close(context.Background()); err != nil {
			t.Errorf("Close #%d: %v", i, err)
		}
	}
	if _, err := st.Upload(context.Background(), storage.Object{Key: "x"}, strings.NewReader("x")); err == nil {
		t.Error("upload after Close succeeded")
	}
	if err := st.Test(context.Background()); err == nil {
		t.Error("Test after Close succeeded")
	}
}

// An upload holds about two parts in memory, however large the object:
// the bytes allocated while uploading 64 MiB in 5 MiB parts stay far
// below the object's size.
func TestUploadMemoryBounded(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, map[string]any{"part_size": int64(5 << 20)})
	const size = 64 << 20
	// Warm up the connection pool and the client's caches.
	if _, err := st.Upload(context.Background(), storage.Object{Key: "mem/warm.bin"}, newStream(1<<10, 5, io.EOF)); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := st.Upload(context.Background(), storage.Object{Key: "mem/big.bin"}, newStream(size, 6, io.EOF)); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %.1f MiB to upload %d MiB in 5 MiB parts", float64(alloc)/(1<<20), size>>20)
	if alloc > 24<<20 {
		t.Errorf("allocated %.1f MiB to upload %d MiB: want about two 5 MiB parts", float64(alloc)/(1<<20), size>>20)
	}
}

// faultyProxy forwards to the test server but answers the upload of part
// failPart itself with status and code.
func faultyProxy(t *testing.T, srv s3test.Server, failPart string, status int, code string) string {
	t.Helper()
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps Host: the signature stays valid
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == failPart {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message></Error>`, code)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	return ps.URL
}

// When the server refuses a part, the upload fails with the server's
// reason, classified, and is aborted.
func TestPartFailureAborts(t *testing.T) {
	fx := newFixture(t)
	for _, tc := range []struct {
		name, part string
		status     int
		code       string
		kind       fault.Kind
	}{
		{"access denied on part 2", "2", http.StatusForbidden, "AccessDenied", fault.Permanent},
		{"server busy on part 1", "1", http.StatusServiceUnavailable, "SlowDown", fault.Transient},
		{"server error on part 3", "3", http.StatusInternalServerError, "InternalError", fault.Transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			endpoint := faultyProxy(t, fx.srv, tc.part, tc.status, tc.code)
			st := fx.store(t, map[string]any{"endpoint": endpoint, "part_size": int64(5 << 20)})
			key := "part-failure/" + tc.part + ".bin"
			_, err := st.Upload(context.Background(), storage.Object{Key: key}, newStream(14<<20, 7, io.EOF))
			if err == nil || fault.KindOf(err) != tc.kind || !strings.Contains(err.Error(), "upload part "+tc.part) {
				t.Fatalf("Upload: %v (kind %v), want kind %v for part %s", err, fault.KindOf(err), tc.kind, tc.part)
			}
			t.Logf("Upload: %v", err)
			fx.expectNothing(t, key)
		})
	}
}

// Content type, metadata (non-ASCII values included) and the request ID
// land on the object.
func TestMetadata(t *testing.T) {
	fx := newFixture(t)
	st := fx.store(t, nil)
	key := "meta/package.json"
	obj := storage.Object{
		RequestID: "pri_123", Key: key, ContentType: "application/json",
		Metadata: map[string]string{"policy": "access", "rule": "données personnelles"},
	}
	if _, err := st.Upload(context.Background(), obj, strings.NewReader(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	info, err := fx.c.StatObject(context.Background(), fx.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if info.ContentType != "application/json" {
		t.Errorf("content type %q", info.ContentType)
	}
	var dec mime.WordDecoder
	got := map[string]string{}
	for k, v := range info.UserMetadata {
		d, err := dec.DecodeHeader(v)
		if err != nil {
			t.Errorf("metadata %s = %q: %v", k, v, err)
		}
		got[strings.ToLower(k)] = d
	}
	want := map[string]string{"policy": "access", "rule": "données personnelles", "request-id": "pri_123"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("metadata %s = %q, want %q (all: %v)", k, got[k], v, info.UserMetadata)
		}
	}
}
