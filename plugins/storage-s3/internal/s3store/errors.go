package s3store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/minio/minio-go/v7"

	"github.com/lethehq/lethe/sdk/fault"
)

// classify wraps err, the failure of op, with what to fix and marks it
// permanent (configuration: credentials, bucket, region, encryption) or
// transient (the server is unreachable, busy or failing).
func (s *Store) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	permanent := func(hint string) error {
		return fault.AsPermanent(fmt.Errorf("%s: %s: %w", op, hint, err))
	}
	transient := func(hint string) error {
		return fault.AsTransient(fmt.Errorf("%s: %s: %w", op, hint, err))
	}
	switch {
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, context.DeadlineExceeded):
		return transient("timed out")
	}

	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "":
		// Not an S3 error response: see below.
	case "NoSuchBucket":
		return permanent(fmt.Sprintf("%s does not exist; create it or correct bucket (and region)", s.where))
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return permanent(fmt.Sprintf("access denied to %s; check access_key_id and secret_access_key (or the default credential chain) and that their policy allows s3:PutObject, s3:DeleteObject and s3:AbortMultipartUpload on the bucket", s.where))
	case "InvalidAccessKeyId":
		return permanent(fmt.Sprintf("the server at %s does not know the access key; check access_key_id (or the default credential chain)", s.set.endpoint))
	case "SignatureDoesNotMatch":
		return permanent("the server refused the request signature; check secret_access_key (and region)")
	case "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "ExpiredTokenException":
		return permanent("the session token is invalid or has expired; renew the credentials")
	case "AuthorizationHeaderMalformed", "AuthorizationQueryParametersError", "PermanentRedirect", "IllegalLocationConstraintException", "InvalidRegion":
		if resp.Region != "" && resp.Region != s.set.region {
			return permanent(fmt.Sprintf("%s is in region %q; set region = %q", s.where, resp.Region, resp.Region))
		}
		return permanent(fmt.Sprintf("the request does not match the bucket's region or endpoint; check region (%q) and endpoint", s.set.region))
	case "RequestTimeTooSkewed":
		return permanent("the clock of this machine is too far from the server's; synchronise it")
	case "InvalidBucketName":
		return permanent("the server refuses the bucket name; correct bucket")
	case "NotImplemented", "KMSNotConfigured", "KMS.NotFoundException", "KMS.DisabledException", "KMS.KMSInvalidStateException",
		"InvalidEncryptionAlgorithmError", "InvalidEncryptionMethod", "KMSKeyNotFoundException":
		return permanent("the server refuses the request, often the server-side encryption; check server_side_encryption and kms_key_id")
	case "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "OperationAborted", "NoSuchUpload",
		"BadDigest", "XAmzContentSHA256Mismatch", "XMinioServerNotInitialized", "XMinioStorageFull", "IncompleteBody":
		return transient("the server could not complete the request")
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		return permanent(fmt.Sprintf("access denied to %s; check the credentials and their policy", s.where))
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		return transient("the server could not complete the request")
	case resp.StatusCode >= 400:
		return permanent("the server refused the request")
	}

	var (
		unknownCA *x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		certErr   *tls.CertificateVerificationError
		dnsErr    *net.DNSError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr):
		return permanent(fmt.Sprintf("the TLS certificate of %s is not trusted; check endpoint", s.set.endpoint))
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		hint := fmt.Sprintf("host %s not found; check endpoint", dnsErr.Name)
		if !s.set.pathStyle {
			hint += " (or set path_style = true)"
		}
		return permanent(hint)
	case errors.As(err, &netErr):
		return transient(fmt.Sprintf("cannot reach %s; check endpoint and that the server is running", s.set.endpoint))
	}
	return err
}
