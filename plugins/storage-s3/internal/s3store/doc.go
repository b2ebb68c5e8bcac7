// Package s3store stores access packages in an Amazon S3 bucket or on an
// S3-compatible server such as MinIO.
//
// An object is streamed with bounded memory: an object smaller than one
// part goes up in a single PUT; a larger one as a multipart upload, read
// one part at a time into one of two part buffers (one is filled while the
// other is sent). S3 makes the object visible only when the upload
// completes. A failed or cancelled upload is aborted, so no part is left
// behind; when the abort itself fails, the error says so.
//
// The sha256 of the object is computed while it streams and returned in the
// Result; each part also carries its own sha256 in the request signature,
// which S3 checks. Location is a presigned GET URL valid for presign_ttl.
package s3store
