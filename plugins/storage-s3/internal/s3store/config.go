package s3store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/schema"
)

// Limits of the configuration.
const (
	// DefaultPartSize is the part size of a multipart upload unless
	// part_size says otherwise.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts (the last part of an
	// upload excepted).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// MaxPresignTTL is the longest validity S3 allows a presigned URL
	// (signature version 4).
	MaxPresignTTL = 7 * 24 * time.Hour
	// DefaultPresignTTL is how long a returned download link works unless
	// presign_ttl says otherwise (fidesops: 86400 s).
	DefaultPresignTTL = 24 * time.Hour
)

// Server-side encryption modes.
const (
	sseNone = ""
	sseS3   = "AES256"
	sseKMS  = "aws:kms"
)

// attributes is the configuration schema.
var attributes = []schema.Attribute{
	{Name: "bucket", Type: schema.String, Required: true, Destination: true, Description: "Name of the bucket the packages are written to. It must exist; the plugin never creates it."},
	{Name: "region", Type: schema.String, Default: "us-east-1", Destination: true, Description: "Region of the bucket, such as \"eu-west-1\". Requests and download links are signed for it."},
	{Name: "endpoint", Type: schema.String, Destination: true, Description: "URL of an S3-compatible server such as MinIO, for example \"http://127.0.0.1:9000\" (http or https, no path). Empty: Amazon S3."},
	{Name: "path_style", Type: schema.Bool, Default: false, Destination: true, Description: "Address the bucket in the URL path (https://host/bucket/key) rather than in the host name. MinIO and most S3-compatible servers need it; when false, the bucket goes in the host name on Amazon S3 and in the path elsewhere."},
	{Name: "server_side_encryption", Type: schema.String, Default: sseNone, Description: "Server-side encryption of written objects: \"\" (the bucket's default), \"AES256\" (SSE-S3) or \"aws:kms\" (SSE-KMS, with kms_key_id)."},
	{Name: "kms_key_id", Type: schema.String, Description: "KMS key ID or ARN for server_side_encryption = \"aws:kms\". Empty: the account's AWS-managed key."},
	{Name: "access_key_id", Type: schema.String, Sensitive: true, Description: "Access key ID. When both access_key_id and secret_access_key are empty, credentials come from the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE), then the IAM role of the container or instance."},
	{Name: "secret_access_key", Type: schema.String, Sensitive: true, Description: "Secret access key; set together with access_key_id."},
	{Name: "presign_ttl", Type: schema.Duration, Default: DefaultPresignTTL, Description: "How long the download link returned for each package works, such as \"24h\"; at most 7 days (\"168h\"). A link signed with temporary credentials stops working when they expire."},
	{Name: "part_size", Type: schema.Int, Default: int64(DefaultPartSize), Description: "Size in bytes of each part of a multipart upload: at least 5 MiB (5242880), at most 5 GiB; default 8 MiB (8388608). An upload holds about two parts in memory, and an object may have at most 10000 parts."},
}

// settings is a checked configuration.
type settings struct {
	bucket    string
	region    string
	endpoint  string // host[:port]
	secure    bool
	pathStyle bool
	sse       string
	kmsKeyID  string
	accessKey string
	secretKey string
	ttl       time.Duration
	partSize  int64
	// egress is the policy the host sent; nil is the default one.
	egress *egress.Policy
}

// amazonEndpoint is used when endpoint is empty.
const amazonEndpoint = "s3.amazonaws.com"

// parseSettings checks cfg. Its errors name the attribute to fix.
func parseSettings(cfg schema.Config) (settings, error) {
	s := settings{
		bucket:    cfg.String("bucket"),
		region:    cfg.String("region"),
		pathStyle: cfg.Bool("path_style"),
		sse:       cfg.String("server_side_encryption"),
		kmsKeyID:  cfg.String("kms_key_id"),
		accessKey: cfg.String("access_key_id"),
		secretKey: cfg.String("secret_access_key"),
		ttl:       cfg.Duration("presign_ttl"),
		partSize:  cfg.Int("part_size"),
		endpoint:  amazonEndpoint,
		secure:    true,
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if s.bucket == "" {
		add("bucket is empty; set it to the name of an existing bucket")
	} else if err := s3utils.CheckValidBucketName(s.bucket); err != nil {
		add("bucket %q is not a valid bucket name: %v", s.bucket, err)
	}
	if s.region == "" {
		add("region is empty; set it to the bucket's region, such as \"us-east-1\"")
	} else if strings.ContainsAny(s.region, " \t/\\:") {
		add("region %q is not a region name such as \"us-east-1\"", s.region)
	}
	if raw := strings.TrimSpace(cfg.String("endpoint")); raw != "" {
		host, secure, err := parseEndpoint(raw)
		if err != nil {
			add("endpoint %q: %v", raw, err)
		} else {
			s.endpoint, s.secure = host, secure
		}
	}
	switch s.sse {
	case sseNone, sseS3:
		if s.kmsKeyID != "" {
			add("kms_key_id is set but server_side_encryption is %q; set server_side_encryption = \"aws:kms\" or remove kms_key_id", s.sse)
		}
	case sseKMS:
	default:
		add("server_side_encryption %q is not one of \"\", \"AES256\", \"aws:kms\"", s.sse)
	}
	if (s.accessKey == "") != (s.secretKey == "") {
		add("set both access_key_id and secret_access_key, or neither to use the default credential chain")
	}
	switch {
	case s.ttl < time.Second:
		add("presign_ttl %s is shorter than one second; set a duration such as \"24h\"", s.ttl)
	case s.ttl > MaxPresignTTL:
		add("presign_ttl %s is longer than 7 days (168h), the longest S3 allows for a presigned URL; set at most \"168h\"", s.ttl)
	}
	switch {
	case s.partSize < MinPartSize:
		add("part_size %d is smaller than 5 MiB (5242880), the smallest part S3 accepts", s.partSize)
	case s.partSize > MaxPartSize:
		add("part_size %d is larger than 5 GiB (5368709120), the largest part S3 accepts", s.partSize)
	}
	if len(errs) > 0 {
		return settings{}, errors.Join(errs...)
	}
	return s, nil
}

// parseEndpoint splits an endpoint URL into host[:port] and whether it
// uses TLS.
func parseEndpoint(raw string) (host string, secure bool, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false, errors.New("not an http or https URL such as \"http://127.0.0.1:9000\"")
	}
	switch u.Scheme {
	case "https":
		secure = true
	case "http":
	default:
		return "", false, errors.New("not an http or https URL such as \"http://127.0.0.1:9000\"")
	}
	switch {
	case u.Host == "" || u.Hostname() == "":
		return "", false, errors.New("no host; use a URL such as \"http://127.0.0.1:9000\"")
	case u.User != nil:
		return "", false, errors.New("credentials in the URL; set access_key_id and secret_access_key instead")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "", u.Opaque != "":
		return "", false, errors.New("a path, query or fragment; give only scheme, host and port, and the bucket in bucket")
	}
	return u.Host, secure, nil
}
