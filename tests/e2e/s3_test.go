package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/lethehq/lethe/core/pack"
)

// s3Server is the MinIO that scripts/servers.sh starts.
type s3Server struct {
	endpoint, access, secret, region string
	client                           *minio.Client
}

func newS3(t *testing.T) (*s3Server, string) {
	t.Helper()
	s := &s3Server{endpoint: os.Getenv("LETHE_TEST_S3_ENDPOINT"), access: os.Getenv("LETHE_TEST_S3_ACCESS_KEY"),
		secret: os.Getenv("LETHE_TEST_S3_SECRET_KEY"), region: os.Getenv("LETHE_TEST_S3_REGION")}
	if s.endpoint == "" {
		unavailable(t, "MinIO (LETHE_TEST_S3_ENDPOINT; run the tests with make test)", nil)
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	u, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	s.client, err = minio.New(u.Host, &minio.Options{Creds: credentials.NewStaticV4(s.access, s.secret, ""), Secure: u.Scheme == "https", Region: s.region})
	if err != nil {
		t.Fatal(err)
	}
	bucket := strings.ReplaceAll(randomName("lethe-e2e"), "_", "-")
	ctx := context.Background()
	if err := s.client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: s.region}); err != nil {
		unavailable(t, "MinIO at "+s.endpoint, err)
	}
	t.Cleanup(func() {
		for obj := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			_ = s.client.RemoveObject(ctx, bucket, obj.Key, minio.RemoveObjectOptions{})
		}
		for up := range s.client.ListIncompleteUploads(ctx, bucket, "", true) {
			_ = s.client.RemoveIncompleteUpload(ctx, bucket, up.Key)
		}
		_ = s.client.RemoveBucket(ctx, bucket)
	})
	return s, bucket
}

// s3Config replaces the local storage of a backend's configuration with
// two S3 destinations on endpoint: "local" (JSON, so the example policies
// upload there) and "zipped" (CSV).
func s3Config(t *testing.T, b *backend, s *s3Server, endpoint, bucket string) string {
	t.Helper()
	dir, _ := b.config(t)
	path := filepath.Join(dir, "main.hcl")
	main, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)storage "local" \{.*?\n\}\n`)
	store := func(name, format string) string {
		return fmt.Sprintf(`storage %q {
  plugin = "s3"
  format = %q
  config = {
    bucket            = %q
    region            = %q
    endpoint          = %q
    path_style        = true
    access_key_id     = %q
    secret_access_key = %q
    part_size         = 5242880
    presign_ttl       = "1h"
  }
}
`, name, format, bucket, s.region, endpoint, s.access, s.secret)
	}
	out := block.ReplaceAllString(string(main), store("local", "json")+store("zipped", "csv"))
	if out == string(main) {
		t.Fatal("no local storage block to replace")
	}
	out += `
policy "access_csv" {
  rule "user_data" {
    action  = "access"
    targets = ["user"]
    storage = "zipped"
  }
}
`
	if err := os.WriteFile(path, []byte(out), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

var anyPackageLine = regexp.MustCompile(`(?m)^Package: (\S+)`)

func fetch(t *testing.T, rawURL string) []byte {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET the presigned URL: %d %v %s", resp.StatusCode, err, truncate(data))
	}
	return data
}

// TestS3Package: the package is uploaded to MinIO, fetched through the
// presigned URL, decrypted with the request's key and equals the expected
// package; a CSV package is a valid zip of one CSV per collection.
func TestS3Package(t *testing.T) {
	golden, err := os.ReadFile(filepath.Join("testdata", "access_jane.json"))
	if err != nil {
		t.Fatal(err)
	}
	s, bucket := newS3(t)
	b := newBackend(t, "sqlite")
	dir := s3Config(t, b, s, s.endpoint, bucket)

	key := bytes.Repeat([]byte{7}, 32)
	r := mustComplete(t, []string{"LETHE_TEST_RESULT_KEY=" + base64.StdEncoding.EncodeToString(key)}, dir,
		"--policy", "access", "--identity", "email=jane@example.com", "--encryption-key-env", "LETHE_TEST_RESULT_KEY")
	m := anyPackageLine.FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(m[1], "X-Amz-Signature=") || !strings.Contains(m[1], "X-Amz-Expires=3600") {
		t.Fatalf("no presigned package URL:\n%s", r)
	}
	sealed := fetch(t, m[1])
	if bytes.Contains(sealed, []byte("jane@example.com")) {
		t.Fatal("the uploaded package is not encrypted")
	}
	plain, err := pack.Decrypt(sealed, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := canonicalJSON(t, plain), canonicalJSON(t, golden); got != want {
		t.Errorf("package\n got:\n%s\nwant:\n%s", got, want)
	}

	r = mustComplete(t, nil, dir, "--policy", "access_csv", "--identity", "email=jane@example.com")
	m = anyPackageLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no package URL:\n%s", r)
	}
	data := fetch(t, m[1])
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("the CSV package is not a zip: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == "shop.customers.csv" && !strings.Contains(string(body), "jane@example.com") {
			t.Errorf("customers.csv: %s", body)
		}
	}
	if len(names) != 10 {
		t.Errorf("zip entries %v, want one per collection with data (10)", names)
	}
}

// TestS3UploadFailsPartWay: a proxy in front of MinIO refuses the second
// part of every multipart upload; the request ends in error with no
// incomplete upload left behind; once the proxy lets parts through, a
// resume completes it, with the whole package in the bucket.
func TestS3UploadFailsPartWay(t *testing.T) {
	s, bucket := newS3(t)
	target, err := url.Parse(s.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var failParts atomic.Bool
	var refused atomic.Int64
	failParts.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failParts.Load() && r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2" {
			refused.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>injected</Message></Error>`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()

	b := newBackend(t, "postgres")
	// About 12 MB of visits: a package of three 5 MiB parts.
	if _, err := b.db.Exec(`INSERT INTO visits (id, email, page, visited_at, ip_address)
		SELECT g, 'jane@example.com', '/products/teapot?ref=' || md5(g::text), '2024-04-01T00:00:00Z', '198.51.100.7' FROM generate_series(10000, 89999) AS g`); err != nil {
		t.Fatal(err)
	}
	dir := s3Config(t, b, s, srv.URL, bucket)
	r := run(t, nil, dir, "--policy", "access", "--identity", "email=jane@example.com")
	if r.code == 0 || !strings.Contains(r.stdout, "Status: error") || r.request == "" {
		t.Fatalf("the request did not end in error:\n%s", r)
	}
	if refused.Load() == 0 {
		t.Fatal("no part was refused: the upload was not multipart")
	}
	ctx := context.Background()
	for up := range s.client.ListIncompleteUploads(ctx, bucket, "", true) {
		t.Errorf("an incomplete upload was left behind: %s (%v)", up.Key, up.Err)
	}
	for obj := range s.client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		t.Errorf("a failed upload left an object: %s", obj.Key)
	}

	failParts.Store(false)
	r = mustComplete(t, nil, dir, "--resume", r.request)
	m := anyPackageLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no package URL:\n%s", r)
	}
	pkg := fetch(t, m[1])
	if n := bytes.Count(pkg, []byte("/products/teapot?ref=")); n != 80000 {
		t.Errorf("the package holds %d of the 80000 visits", n)
	}
	for up := range s.client.ListIncompleteUploads(ctx, bucket, "", true) {
		t.Errorf("an incomplete upload is left after the retry: %s", up.Key)
	}
}
