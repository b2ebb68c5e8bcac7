package s3store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
)

// TestConfig checks the schema and New's checks of a configuration; no
// server is contacted.
func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		raw  map[string]any
		// schemaErr is part of the schema diagnostics; newErr part of New's
		// error; both "" when the configuration is valid.
		schemaErr, newErr string
		check             func(t *testing.T, s settings)
	}{
		{name: "defaults", raw: map[string]any{"bucket": "results"}, check: func(t *testing.T, s settings) {
			want := settings{bucket: "results", region: "us-east-1", endpoint: "s3.amazonaws.com", secure: true, ttl: 24 * time.Hour, partSize: 8 << 20}
			if s != want {
				t.Errorf("settings %+v, want %+v", s, want)
			}
		}},
		{name: "minio over http", raw: map[string]any{"bucket": "bkt", "endpoint": "http://127.0.0.1:9000", "path_style": true, "region": "eu-west-1"}, check: func(t *testing.T, s settings) {
			if s.endpoint != "127.0.0.1:9000" || s.secure || !s.pathStyle || s.region != "eu-west-1" {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "https endpoint with a trailing slash", raw: map[string]any{"bucket": "bkt", "endpoint": "https://s3.example.com/"}, check: func(t *testing.T, s settings) {
			if s.endpoint != "s3.example.com" || !s.secure {
				t.Errorf("settings %+v", s)
			}
		}},
		// env("LETHE_S3_ENDPOINT") of configs/s3/main.hcl is "" when unset.
		{name: "empty endpoint is Amazon S3", raw: map[string]any{"bucket": "bkt", "endpoint": ""}, check: func(t *testing.T, s settings) {
			if s.endpoint != "s3.amazonaws.com" || !s.secure {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "static keys", raw: map[string]any{"bucket": "bkt", "access_key_id": "AK", "secret_access_key": "SK"}, check: func(t *testing.T, s settings) {
			if s.accessKey != "AK" || s.secretKey != "SK" {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "SSE-S3", raw: map[string]any{"bucket": "bkt", "server_side_encryption": "AES256"}},
		{name: "SSE-KMS with a key", raw: map[string]any{"bucket": "bkt", "server_side_encryption": "aws:kms", "kms_key_id": "arn:aws:kms:us-east-1:1:key/k"}, check: func(t *testing.T, s settings) {
			if s.sse != "aws:kms" || s.kmsKeyID != "arn:aws:kms:us-east-1:1:key/k" {
				t.Errorf("settings %+v", s)
			}
		}},
		{name: "SSE-KMS with the AWS-managed key", raw: map[string]any{"bucket": "bkt", "server_side_encryption": "aws:kms"}},
		{name: "presign_ttl of 7 days", raw: map[string]any{"bucket": "bkt", "presign_ttl": "168h"}, check: func(t *testing.T, s settings) {
			if s.ttl != 7*24*time.Hour {
				t.Errorf("ttl %s", s.ttl)
			}
		}},
		{name: "part_size of 5 MiB as an HCL number", raw: map[string]any{"bucket": "bkt", "part_size": float64(5 << 20)}, check: func(t *testing.T, s settings) {
			if s.partSize != 5<<20 {
				t.Errorf("part size %d", s.partSize)
			}
		}},

		{name: "no bucket", raw: map[string]any{}, schemaErr: `missing required attribute "bucket"`},
		{name: "bucket not a string", raw: map[string]any{"bucket": 42}, schemaErr: `attribute "bucket" must be a string`},
		{name: "empty bucket", raw: map[string]any{"bucket": ""}, newErr: "bucket is empty"},
		{name: "invalid bucket name", raw: map[string]any{"bucket": "no/slashes"}, newErr: "is not a valid bucket name"},
		{name: "unknown attribute", raw: map[string]any{"bucket": "bkt", "dir": "/tmp"}, schemaErr: `unknown attribute "dir"`},
		{name: "empty region", raw: map[string]any{"bucket": "bkt", "region": ""}, newErr: "region is empty"},
		{name: "region with a slash", raw: map[string]any{"bucket": "bkt", "region": "us/east"}, newErr: "not a region name"},
		{name: "endpoint without a scheme", raw: map[string]any{"bucket": "bkt", "endpoint": "127.0.0.1:9000"}, newErr: "not an http or https URL"},
		{name: "endpoint of another scheme", raw: map[string]any{"bucket": "bkt", "endpoint": "ftp://example.com"}, newErr: "not an http or https URL"},
		{name: "endpoint with a path", raw: map[string]any{"bucket": "bkt", "endpoint": "http://127.0.0.1:9000/bucket"}, newErr: "a path, query or fragment"},
		{name: "endpoint with credentials", raw: map[string]any{"bucket": "bkt", "endpoint": "http://u:p@127.0.0.1:9000"}, newErr: "credentials in the URL"},
		{name: "endpoint without a host", raw: map[string]any{"bucket": "bkt", "endpoint": "http://"}, newErr: "no host"},
		{name: "unknown encryption", raw: map[string]any{"bucket": "bkt", "server_side_encryption": "aes"}, newErr: `server_side_encryption "aes" is not one of`},
		{name: "kms key without aws:kms", raw: map[string]any{"bucket": "bkt", "kms_key_id": "k"}, newErr: `set server_side_encryption = "aws:kms"`},
		{name: "kms key with AES256", raw: map[string]any{"bucket": "bkt", "server_side_encryption": "AES256", "kms_key_id": "k"}, newErr: "kms_key_id is set"},
		{name: "access key without secret", raw: map[string]any{"bucket": "bkt", "access_key_id": "AK"}, newErr: "set both access_key_id and secret_access_key"},
		{name: "secret without access key", raw: map[string]any{"bucket": "bkt", "secret_access_key": "SK"}, newErr: "set both access_key_id and secret_access_key"},
		{name: "presign_ttl over 7 days", raw: map[string]any{"bucket": "bkt", "presign_ttl": "169h"}, newErr: "presign_ttl 169h0m0s is longer than 7 days"},
		{name: "presign_ttl of 30 days", raw: map[string]any{"bucket": "bkt", "presign_ttl": "720h"}, newErr: `set at most "168h"`},
		{name: "presign_ttl zero", raw: map[string]any{"bucket": "bkt", "presign_ttl": "0s"}, newErr: "shorter than one second"},
		{name: "presign_ttl negative", raw: map[string]any{"bucket": "bkt", "presign_ttl": "-1h"}, newErr: "shorter than one second"},
		{name: "presign_ttl not a duration", raw: map[string]any{"bucket": "bkt", "presign_ttl": "a day"}, schemaErr: `attribute "presign_ttl" must be a duration`},
		{name: "part_size under 5 MiB", raw: map[string]any{"bucket": "bkt", "part_size": int64(5<<20 - 1)}, newErr: "smaller than 5 MiB"},
		{name: "part_size over 5 GiB", raw: map[string]any{"bucket": "bkt", "part_size": int64(5<<30 + 1)}, newErr: "larger than 5 GiB"},
		{name: "part_size not a number", raw: map[string]any{"bucket": "bkt", "part_size": "16MiB"}, schemaErr: `attribute "part_size" must be a int`},
		{name: "several problems at once", raw: map[string]any{"bucket": "bkt", "region": "", "presign_ttl": "999h"}, newErr: "region is empty"},
	}
	def := Definition("0")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, diags := def.Config.Validate(tc.raw)
			if tc.schemaErr != "" {
				if err := diags.Err(); err == nil || !strings.Contains(err.Error(), tc.schemaErr) {
					t.Fatalf("schema: %v, want an error containing %q", err, tc.schemaErr)
				}
				return
			}
			if diags.HasErrors() {
				t.Fatal(diags.Err())
			}
			set, perr := parseSettings(cfg)
			st, err := New(context.Background(), cfg)
			if tc.newErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.newErr) || fault.KindOf(err) != fault.Permanent {
					t.Fatalf("New: %v, want a permanent error containing %q", err, tc.newErr)
				}
				return
			}
			if err != nil || perr != nil {
				t.Fatalf("New: %v", err)
			}
			st.Close(context.Background())
			if tc.check != nil {
				tc.check(t, set)
			}
		})
	}
}

// Secrets never appear in diagnostics, even when they have the wrong type.
func TestConfigSecretsNotShown(t *testing.T) {
	_, diags := Definition("0").Config.Validate(map[string]any{"bucket": "bkt", "access_key_id": 1234567, "secret_access_key": []any{"hunter2-secret"}})
	if !diags.HasErrors() {
		t.Fatal("wrong types accepted")
	}
	if msg := diags.Err().Error(); strings.Contains(msg, "hunter2") || strings.Contains(msg, "1234567") {
		t.Errorf("diagnostics show a secret: %s", msg)
	}
	for _, name := range []string{"access_key_id", "secret_access_key"} {
		if a, ok := Definition("0").Config.Attribute(name); !ok || !a.Sensitive {
			t.Errorf("%s is not sensitive", name)
		}
	}
	red := Definition("0").Config.Redacted(map[string]any{"bucket": "bkt", "secret_access_key": "hunter2"})
	if red["secret_access_key"] == "hunter2" {
		t.Error("Redacted keeps the secret")
	}
}

// The schema's defaults are those the documentation gives.
func TestSchemaDefaults(t *testing.T) {
	cfg, diags := Definition("0").Config.Validate(map[string]any{"bucket": "bkt"})
	if diags.HasErrors() {
		t.Fatal(diags.Err())
	}
	want := schema.Config{
		"bucket": "bkt", "region": "us-east-1", "path_style": false, "server_side_encryption": "",
		"presign_ttl": 24 * time.Hour, "part_size": int64(8 << 20),
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("%s = %#v, want %#v", k, cfg[k], v)
		}
	}
}
