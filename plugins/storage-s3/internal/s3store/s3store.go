package s3store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"

	"github.com/lethehq/lethe/sdk/egress"
	"github.com/lethehq/lethe/sdk/fault"
	"github.com/lethehq/lethe/sdk/schema"
	"github.com/lethehq/lethe/sdk/storage"
)

// maxParts is the most parts S3 accepts in one multipart upload.
const maxParts = 10000

// abortTimeout bounds the abort of a failed upload, which runs even when
// the upload's context has ended.
const abortTimeout = time.Minute

// Definition returns the plugin's definition; version is the plugin's
// semantic version.
func Definition(version string) storage.Definition {
	return storage.Definition{
		Name:        "s3",
		Version:     version,
		Description: "Writes access packages to an Amazon S3 bucket or an S3-compatible server such as MinIO, and returns presigned download links.",
		Config:      schema.Schema{Attributes: attributes},
		New:         New,
	}
}

// Store writes to one bucket. It is safe for concurrent use.
type Store struct {
	set       settings
	core      *minio.Core
	creds     *credentials.Credentials
	transport *http.Transport
	sse       encrypt.ServerSide
	where     string // "bucket "x" at host", for messages

	bufs   sync.Pool // *[]byte of set.partSize bytes
	closed atomic.Bool
}

// New checks cfg and creates the client. It does not contact the server:
// Test does.
func New(ctx context.Context, cfg schema.Config) (storage.Store, error) {
	set, err := parseSettings(cfg)
	if err != nil {
		return nil, fault.AsPermanent(err)
	}
	set.egress = egress.FromContext(ctx)
	return newStore(set)
}

func newStore(set settings) (*Store, error) {
	transport, err := minio.DefaultTransport(set.secure)
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("create the HTTP transport: %w", err))
	}
	plain := transport.Clone()
	pol := set.egress
	if pol == nil {
		pol = &egress.Policy{}
	}
	applyEgress(pol, transport)
	var creds *credentials.Credentials
	if set.accessKey != "" {
		creds = credentials.NewStaticV4(set.accessKey, set.secretKey, "")
	} else {
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{},
			&credentials.FileAWSCredentials{},
			&credentials.IAM{Client: &http.Client{Transport: credentialTransport(pol, transport, plain), Timeout: 10 * time.Second}},
		})
	}
	lookup := minio.BucketLookupAuto
	if set.pathStyle {
		lookup = minio.BucketLookupPath
	}
	core, err := minio.NewCore(set.endpoint, &minio.Options{
		Creds:        creds,
		Secure:       set.secure,
		Transport:    transport,
		Region:       set.region, // also spares a GetBucketLocation per client
		BucketLookup: lookup,
		// Each request is retried a few times; the host retries the whole
		// upload after a transient failure.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fault.AsPermanent(fmt.Errorf("endpoint %s: %w", set.endpoint, err))
	}
	var sse encrypt.ServerSide
	switch set.sse {
	case sseS3:
		sse = encrypt.NewSSE()
	case sseKMS:
		if sse, err = encrypt.NewSSEKMS(set.kmsKeyID, nil); err != nil {
			return nil, fault.AsPermanent(fmt.Errorf("kms_key_id: %w", err))
		}
	}
	scheme := "https"
	if !set.secure {
		scheme = "http"
	}
	s := &Store{
		set: set, core: core, creds: creds, transport: transport, sse: sse,
		where: fmt.Sprintf("bucket %q at %s://%s", set.bucket, scheme, set.endpoint),
	}
	s.bufs.New = func() any { b := make([]byte, set.partSize); return &b }
	return s, nil
}

// Test checks that the bucket exists and that objects can be written to
// it and removed, and that a multipart upload can be started and aborted
// (a failed upload is aborted).
func (s *Store) Test(ctx context.Context) error {
	if err := s.usable(); err != nil {
		return err
	}
	// The default chain finding nothing means unsigned requests.
	v, err := s.creds.GetWithContext(nil)
	anonymous := err == nil && v.AccessKeyID == ""
	explain := func(op string, err error) error {
		err = s.classify(op, err)
		if anonymous {
			err = fmt.Errorf("%w (no credentials were found: set access_key_id and secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", err)
		}
		return err
	}
	exists, err := s.core.BucketExists(ctx, s.set.bucket)
	switch {
	case err != nil && minio.ToErrorResponse(err).Code == "AccessDenied":
		// Listing the bucket (s3:ListBucket) is not needed to write to it:
		// the probe below decides.
	case err != nil:
		return explain("check the bucket", err)
	case !exists:
		return fault.AsPermanent(fmt.Errorf("%s does not exist; create it or correct bucket (and region)", s.where))
	}

	key := ".lethe-probe-" + randomSuffix()
	opts := s.putOptions(storage.Object{ContentType: "text/plain"})
	body := []byte("lethe storage test probe\n")
	sum := sha256.Sum256(body)
	opts.DisableContentSha256 = true
	if _, err := s.core.PutObject(ctx, s.set.bucket, key, bytes.NewReader(body), int64(len(body)), "", hex.EncodeToString(sum[:]), opts); err != nil {
		return explain("write a probe object", err)
	}
	if err := s.core.RemoveObject(ctx, s.set.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("%w; the probe object %s was left in the bucket: remove it and allow s3:DeleteObject", explain("remove the probe object", err), key)
	}
	id, err := s.core.NewMultipartUpload(ctx, s.set.bucket, key, opts)
	if err != nil {
		return explain("start a multipart upload", err)
	}
	if err := s.abort(ctx, key, id); err != nil {
		return fmt.Errorf("%w (allow s3:AbortMultipartUpload: failed uploads are aborted)", err)
	}
	return nil
}

// putOptions are the options of a PUT or multipart upload of obj.
func (s *Store) putOptions(obj storage.Object) minio.PutObjectOptions {
	ct := obj.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	var meta map[string]string
	if len(obj.Metadata) > 0 || obj.RequestID != "" {
		meta = make(map[string]string, len(obj.Metadata)+1)
		for k, v := range obj.Metadata {
			// Header values are ASCII: others are encoded as RFC 2047
			// words, as AWS's own SDKs do.
			meta[k] = mime.QEncoding.Encode("utf-8", v)
		}
		if obj.RequestID != "" {
			if _, ok := meta["request-id"]; !ok {
				meta["request-id"] = obj.RequestID
			}
		}
	}
	return minio.PutObjectOptions{ContentType: ct, UserMetadata: meta, ServerSideEncryption: s.sse}
}

// Upload streams r to obj.Key. See the package documentation.
func (s *Store) Upload(ctx context.Context, obj storage.Object, r io.Reader) (storage.Result, error) {
	if err := storage.ValidKey(obj.Key); err != nil {
		return storage.Result{}, fault.AsPermanent(err)
	}
	if err := s.usable(); err != nil {
		return storage.Result{}, err
	}
	opts := s.putOptions(obj)
	opts.DisableContentSha256 = true // each request carries the sha256 we computed
	total := sha256.New()

	first, n, eof, pooled, err := s.readFirst(ctx, r)
	if err != nil {
		return storage.Result{}, err
	}
	partSum := hashPart(total, (*first)[:n])
	var size int64
	if eof {
		// The whole object fits in one part: one PUT.
		_, err := s.core.PutObject(ctx, s.set.bucket, obj.Key, bytes.NewReader((*first)[:n]), int64(n), "", partSum, opts)
		if err != nil {
			// The buffer is dropped, not reused: after a failed request
			// the HTTP transport may still be reading it.
			return storage.Result{}, s.classify("put object", err)
		}
		if pooled {
			s.bufs.Put(first)
		}
		size = int64(n)
	} else if size, err = s.multipart(ctx, obj.Key, opts, r, first, partSum, total); err != nil {
		return storage.Result{}, err
	}
	u, err := s.core.PresignedGetObject(ctx, s.set.bucket, obj.Key, s.set.ttl, nil)
	if err != nil {
		return storage.Result{}, s.classify("presign a download link", err)
	}
	return storage.Result{Location: u.String(), Size: size, SHA256: hex.EncodeToString(total.Sum(nil))}, nil
}

// part is one filled part on its way to the sender.
type part struct {
	num int
	buf *[]byte
	n   int
	sum string // hex sha256 of the part
}

// multipart uploads first (a full part already read into a pooled
// buffer, of sha256 firstSum) and the rest of r as a multipart upload,
// which it aborts unless it completes. It returns the object's size. It
// takes over first: it returns it to the pool, or drops it.
func (s *Store) multipart(ctx context.Context, key string, opts minio.PutObjectOptions, r io.Reader, first *[]byte, firstSum string, total hash.Hash) (size int64, err error) {
	id, err := s.core.NewMultipartUpload(ctx, s.set.bucket, key, opts)
	if err != nil {
		s.bufs.Put(first)
		return 0, s.classify("start the upload of "+key, err)
	}
	completed := false
	defer func() {
		if !completed {
			if aerr := s.abort(ctx, key, id); aerr != nil {
				err = errors.Join(err, aerr)
			}
		}
	}()

	// One goroutine sends the parts in order while this one reads the
	// next: two part buffers in all, one being sent and one being filled.
	// Every buffer is always in exactly one place: held by the reader,
	// held by the sender, or in free (which has room for both, so a send
	// to it never blocks). A buffer whose request failed is replaced by
	// nil in free and dropped: the HTTP transport may still be reading it
	// (see http.RoundTripper), so it must be neither refilled nor pooled.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	free := make(chan *[]byte, 2)
	defer func() {
		// Runs once the sender has finished: both buffers are in free.
		for len(free) > 0 {
			if b := <-free; b != nil {
				s.bufs.Put(b)
			}
		}
	}()
	free <- s.getBuf()
	parts := make(chan part)
	done := make(chan struct{})
	var (
		sent    []minio.CompletePart // written by the sender until done
		sendErr error
	)
	go func() {
		defer close(done)
		for p := range parts {
			if sendErr == nil {
				op, err := s.core.PutObjectPart(sctx, s.set.bucket, key, id, p.num,
					bytes.NewReader((*p.buf)[:p.n]), int64(p.n),
					minio.PutObjectPartOptions{Sha256Hex: p.sum, DisableContentSha256: true})
				if err != nil {
					sendErr = s.classify(fmt.Sprintf("upload part %d", p.num), err)
					cancel() // stop the reader
					free <- nil
					continue
				}
				sent = append(sent, minio.CompletePart{PartNumber: p.num, ETag: op.ETag})
			}
			free <- p.buf
		}
	}()

	readErr := func() error {
		cur := part{num: 1, buf: first, n: len(*first), sum: firstSum}
		last := false
		for {
			select {
			case parts <- cur:
				size += int64(cur.n)
			case <-sctx.Done():
				free <- cur.buf // never sent
				return nil      // the sender failed or ctx ended: reported below
			}
			if last {
				return nil
			}
			var buf *[]byte
			select {
			case buf = <-free:
			case <-sctx.Done():
				return nil
			}
			if buf == nil { // a send failed
				free <- nil
				return nil
			}
			n, eof, err := readInto(sctx, r, *buf)
			if err != nil || n == 0 || cur.num == maxParts {
				free <- buf
				switch {
				case err != nil:
					return err
				case n == 0: // the previous part was the last
					return nil
				}
				return fault.AsPermanent(fmt.Errorf("%s is larger than %d parts of %d bytes, the most S3 takes in one upload; raise part_size", key, maxParts, s.set.partSize))
			}
			cur = part{num: cur.num + 1, buf: buf, n: n, sum: hashPart(total, (*buf)[:n])}
			last = eof
		}
	}()
	close(parts)
	<-done
	switch {
	case sendErr != nil:
		return 0, sendErr
	case readErr != nil:
		return 0, readErr
	case ctx.Err() != nil:
		return 0, ctx.Err()
	}
	if _, err := s.core.CompleteMultipartUpload(ctx, s.set.bucket, key, id, sent, minio.PutObjectOptions{}); err != nil {
		return 0, s.classify("complete the upload of "+key, err)
	}
	completed = true
	return size, nil
}

// The buffer of an object's first part grows from firstSmall to
// firstLarge before it takes a part buffer: a small object takes memory in
// proportion to its size, a large one copies at most 1 MiB more.
const (
	firstSmall = 64 << 10
	firstLarge = 1 << 20
)

// readFirst reads r until it has a full part or r ends. It returns the
// buffer and the count read into it, whether r ended, and whether the
// buffer is a part buffer of the pool (always when r has not ended).
func (s *Store) readFirst(ctx context.Context, r io.Reader) (buf *[]byte, n int, eof, pooled bool, err error) {
	b := []byte(nil)
	for _, size := range [...]int64{firstSmall, firstLarge, s.set.partSize} {
		if size <= int64(len(b)) {
			continue
		}
		var next *[]byte
		if size == s.set.partSize {
			next, pooled = s.getBuf(), true
		} else {
			nb := make([]byte, size)
			next = &nb
		}
		copy(*next, b[:n])
		b, buf = *next, next
		m, end, err := readInto(ctx, r, b[n:])
		n += m
		if err != nil {
			if pooled {
				s.bufs.Put(buf)
			}
			return nil, 0, false, false, err
		}
		if end {
			return buf, n, true, pooled, nil
		}
	}
	return buf, n, false, pooled, nil
}

// readInto reads r into buf until buf is full or r ends, and returns the
// count and whether r ended. It stops when ctx ends.
func readInto(ctx context.Context, r io.Reader, buf []byte) (n int, eof bool, err error) {
	for n < len(buf) {
		if err := ctx.Err(); err != nil {
			return 0, false, err
		}
		m, rerr := r.Read(buf[n:])
		n += m
		if errors.Is(rerr, io.EOF) {
			return n, true, nil
		}
		if rerr != nil {
			return 0, false, fmt.Errorf("read the object: %w", rerr)
		}
	}
	return n, false, nil
}

// hashPart adds p to total and returns the hex sha256 of p.
func hashPart(total hash.Hash, p []byte) string {
	total.Write(p)
	h := sha256.Sum256(p)
	return hex.EncodeToString(h[:])
}

// abort aborts multipart upload id of key, even when ctx has ended.
func (s *Store) abort(ctx context.Context, key, id string) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	err := s.core.AbortMultipartUpload(actx, s.set.bucket, key, id)
	if err == nil || minio.ToErrorResponse(err).Code == "NoSuchUpload" {
		return nil
	}
	return fmt.Errorf("the incomplete multipart upload %s of %s could not be aborted, so its parts stay in the bucket until it is (a lifecycle rule with AbortIncompleteMultipartUpload removes such uploads): %w", id, key, s.classify("abort", err))
}

func (s *Store) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

func (s *Store) usable() error {
	if s.closed.Load() {
		return fault.AsPermanent(errors.New("the store is closed"))
	}
	return nil
}

// Close releases idle connections; a second Close does nothing. Uploads
// under way finish.
func (s *Store) Close(context.Context) error {
	if s.closed.CompareAndSwap(false, true) {
		s.transport.CloseIdleConnections()
	}
	return nil
}

func randomSuffix() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
