package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is where the tests' S3 server is and how to sign in.
type Server struct {
	Endpoint  string // a URL such as http://127.0.0.1:9000
	AccessKey string
	SecretKey string
	Region    string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// FromEnv reads LETHE_TEST_S3_ENDPOINT, LETHE_TEST_S3_ACCESS_KEY,
// LETHE_TEST_S3_SECRET_KEY and LETHE_TEST_S3_REGION, with the defaults of
// scripts/servers.sh.
func FromEnv() Server {
	return Server{
		Endpoint:  env("LETHE_TEST_S3_ENDPOINT", "http://127.0.0.1:9000"),
		AccessKey: env("LETHE_TEST_S3_ACCESS_KEY", "lethe-test"),
		SecretKey: env("LETHE_TEST_S3_SECRET_KEY", "lethe-test-secret-123"),
		Region:    env("LETHE_TEST_S3_REGION", "us-east-1"),
	}
}

// Unavailable stops the test when the server does not answer: a failure
// when CI=true, a skip with the reason otherwise.
func Unavailable(t testing.TB, srv Server, err error) {
	t.Helper()
	msg := fmt.Sprintf("the S3 server at %s is not reachable (set LETHE_TEST_S3_ENDPOINT, LETHE_TEST_S3_ACCESS_KEY, LETHE_TEST_S3_SECRET_KEY, or run make test, which starts MinIO): %v", srv.Endpoint, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Client returns a client of srv with its own credentials, not the
// plugin's, so tests check what landed independently.
func (srv Server) Client(t testing.TB) *minio.Core {
	t.Helper()
	u, err := url.Parse(srv.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("LETHE_TEST_S3_ENDPOINT %q is not an http(s) URL", srv.Endpoint)
	}
	c, err := minio.NewCore(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       srv.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   2, // a missing server is reported quickly
	})
	if err != nil {
		t.Fatalf("S3 client: %v", err)
	}
	return c
}

// Config is a plugin configuration for bucket on srv; extra entries are
// added to it.
func (srv Server) Config(bucket string, extra map[string]any) map[string]any {
	cfg := map[string]any{
		"bucket": bucket, "region": srv.Region, "endpoint": srv.Endpoint, "path_style": true,
		"access_key_id": srv.AccessKey, "secret_access_key": srv.SecretKey,
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// NewBucket creates a bucket with a random name, empties and removes it
// when the test ends, and returns its name. It stops the test through
// Unavailable when the server does not answer.
func NewBucket(t testing.TB, srv Server) string {
	t.Helper()
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "lethe-test-" + hex.EncodeToString(b[:])
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: srv.Region}); err != nil {
		if minio.ToErrorResponse(err).Code == "" { // no S3 answer at all
			Unavailable(t, srv, err)
		}
		t.Fatalf("create bucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for u := range c.ListIncompleteUploads(ctx, name, "", true) {
			if u.Err == nil {
				_ = c.AbortMultipartUpload(ctx, name, u.Key, u.UploadID)
			}
		}
		for o := range c.Client.ListObjects(ctx, name, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				_ = c.RemoveObject(ctx, name, o.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := c.RemoveBucket(ctx, name); err != nil {
			// MinIO removes a bucket with what is left in it.
			if ferr := c.RemoveBucketWithOptions(ctx, name, minio.RemoveBucketOptions{ForceDelete: true}); ferr != nil {
				t.Errorf("remove bucket %s: %v", name, err)
			}
		}
	})
	return name
}

// Fetch returns the object under key, or an error wrapping fs.ErrNotExist
// when there is none.
func Fetch(ctx context.Context, c *minio.Core, bucket, key string) ([]byte, error) {
	r, _, _, err := c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, fmt.Errorf("%s/%s: %w", bucket, key, fs.ErrNotExist)
		}
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Objects lists the keys in bucket under prefix.
func Objects(ctx context.Context, c *minio.Core, bucket, prefix string) ([]string, error) {
	var keys []string
	for o := range c.Client.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, o.Err
		}
		keys = append(keys, o.Key)
	}
	return keys, nil
}

// IncompleteUploads lists the multipart uploads in bucket under prefix
// that were neither completed nor aborted, as "key (upload id)". Pass an
// exact key or "" (the whole bucket): MinIO lists nothing for a partial
// prefix such as "dir/", so such a check would always pass.
func IncompleteUploads(ctx context.Context, c *minio.Core, bucket, prefix string) ([]string, error) {
	var out []string
	for u := range c.ListIncompleteUploads(ctx, bucket, prefix, true) {
		if u.Err != nil {
			return nil, u.Err
		}
		out = append(out, fmt.Sprintf("%s (%s)", u.Key, u.UploadID))
	}
	return out, nil
}

// ErrNotFound reports whether err says there is no such object.
func ErrNotFound(err error) bool { return errors.Is(err, fs.ErrNotExist) }
