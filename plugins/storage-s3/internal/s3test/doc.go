// Package s3test gives tests a fresh bucket on the S3-compatible server of
// LETHE_TEST_S3_ENDPOINT (default: the MinIO that scripts/servers.sh starts
// on 127.0.0.1:9000).
package s3test
